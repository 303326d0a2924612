"""Bodies of provider API keys and their verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from kit.pagination import CursorPosition
from kit.text import SINGLE_LINE


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                    SINGLE_LINE]


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the secret key; shown only in this response")


class ApiKeyPosition(CursorPosition):
    created_at: datetime
    id: str = Field(min_length=1, max_length=36)


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None


class VerifyIn(BaseModel):
    api_key: Annotated[str, StringConstraints(max_length=4096)] = Field(
        description="the key as the caller presented it; anything malformed is simply unknown")


class VerifyOut(BaseModel):
    provider_id: str
    key_id: str
    prefix: str
