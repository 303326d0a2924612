"""CloudEvents envelope, subjects and the event payloads that cross service boundaries.

Subjects are ``seteli.<service>.v<major>.<event>``; a version only ever adds fields, and
consumers ignore fields they do not know (``extra="ignore"``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

SUBJECT_ROOT = "seteli"
DEAD_LETTER_ROOT = f"{SUBJECT_ROOT}.deadletter"

# One stream per producing service, plus the dead-letter stream.
STREAMS: dict[str, str] = {
    "REGISTRY": f"{SUBJECT_ROOT}.registry.>",
    "VOUCHER": f"{SUBJECT_ROOT}.voucher.>",
    "MATCHING": f"{SUBJECT_ROOT}.matching.>",
    "DEADLETTER": f"{DEAD_LETTER_ROOT}.>",
}


def subject(service: str, event: str, major: int = 1) -> str:
    return f"{SUBJECT_ROOT}.{service}.v{major}.{event}"


def uuid7() -> uuid.UUID:
    """Time-ordered UUID (RFC 9562 version 7)."""
    ms = int(datetime.now(UTC).timestamp() * 1000)
    rand = uuid.uuid4().int & ((1 << 74) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 62) << 64  # 12 bits rand_a
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class Envelope(BaseModel):
    """CloudEvents 1.0 structured-mode envelope."""

    model_config = ConfigDict(extra="ignore")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid7()))
    source: str
    type: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any]


class EventPayload(BaseModel):
    """Base of every event payload. ``service`` and ``name`` fix its subject and type."""

    model_config = ConfigDict(extra="ignore")

    service: ClassVar[str]
    name: ClassVar[str]
    major: ClassVar[int] = 1

    @classmethod
    def subject(cls) -> str:
        return subject(cls.service, cls.name, cls.major)

    @classmethod
    def event_type(cls) -> str:
        return f"fi.seteli.{cls.service}.{cls.name}.v{cls.major}"

    def envelope(self, *, resource: str | None = None) -> Envelope:
        return Envelope(
            source=f"/seteli/{self.service}",
            type=self.event_type(),
            subject=resource,
            data=self.model_dump(mode="json"),
        )
