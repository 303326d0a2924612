"""The dead letters as region admins may see them: ``GET /dead-letters/<service>`` on every
service, routed by the gateway as ``/api/v1/dead-letters/<service>``.

A dead letter holds the whole event, and events carry personal data (a holder's municipality,
languages and profile bands, a ``holder_ref``), while the table is not tagged by region. So
this list gives every region admin the same thing, which names no person: the event's id,
type and subject, the consumer that gave up, how many times it was delivered, when the event
was written and when it was given up, and the error's class with its first line, cut at 200
characters, with anything shaped like a henkilötunnus or a long hexadecimal key (a person
key, a ``holder_ref``) masked and the SQL and its parameters left out. Never the payload:
that stays in ``GET /ops/dead-letters``, which the gateway does not route (operators only).
There is no re-delivery from here: a dead letter is replayed by an operator (see
docs/ARCHITECTURE.md)."""

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import Forbidden, problems
from kit.middleware import HETU_SHAPED, MASK
from kit.pagination import CursorKind, CursorPosition, LimitQuery, Page, paginate
from kit.runtime import Runtime, RuntimeDep

ERROR_CHARS = 200
_KEY_SHAPED = re.compile(r"[0-9A-Fa-f]{32,}")
_CLASS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class DeadLetterPosition(CursorPosition):
    before: int = Field(ge=1, le=2**63 - 1)


async def newest(rt: Runtime, before: DeadLetterPosition | None,
                 limit: int) -> Page[dict[str, Any], DeadLetterPosition]:
    """A page of this service's dead letters, newest first (whole rows, payload included)."""
    dead = rt.plumbing.dead_letter
    q = select(dead).order_by(dead.c.seq.desc()).limit(limit + 1)
    if before is not None:
        q = q.where(dead.c.seq < before.before)
    async with rt.db.reader() as s:
        rows = [dict(r) for r in (await s.execute(q)).mappings().all()]
    return paginate(rows, limit, lambda r: DeadLetterPosition(before=r["seq"]))


class DeadLetterOut(BaseModel):
    service: str
    consumer: str = Field(description="the durable consumer that gave up on the event")
    event_id: str
    event_type: str | None = Field(description="the event's CloudEvents type, when the "
                                   "message could be read")
    subject: str = Field(description="the NATS subject the event came on")
    deliveries: int = Field(description="how many times it was delivered before it was "
                            "given up")
    error_class: str = Field(description="the class of the last error, e.g. IntegrityError")
    error: str = Field(description="the error's first line, at most 200 characters, with "
                       "anything that could name a person masked")
    event_time: datetime | None = Field(description="when the event was written (first "
                                        "delivery was at or after it)")
    dead_lettered_at: datetime = Field(description="when the last delivery failed and the "
                                       "event was given up")


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut] = Field(description="newest first")
    next_cursor: str | None


def error_parts(error: str) -> tuple[str, str]:
    """(class, text people may see) of a stored ``"<Class>: <message>"``."""
    head, sep, rest = error.partition(": ")
    cls = head if sep and _CLASS.match(head) else "Error"
    text = (rest if sep and _CLASS.match(head) else error).split("\n", 1)[0]
    for cut in ("[SQL:", "[parameters:", "DETAIL:"):
        text = text.split(cut, 1)[0]
    text = _KEY_SHAPED.sub(MASK, HETU_SHAPED.sub(MASK, _CONTROL.sub(" ", text))).strip()
    if len(text) > ERROR_CHARS:
        text = text[:ERROR_CHARS - 1].rstrip() + "…"
    return cls.rsplit(".", 1)[-1], text


def _envelope(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def summary(service: str, row: dict[str, Any]) -> DeadLetterOut:
    """What a region admin sees of one dead letter (never the payload)."""
    envelope = _envelope(row["payload"])
    kind = envelope.get("type")
    cls, text = error_parts(row["error"])
    return DeadLetterOut(
        service=service, consumer=row["consumer"], event_id=row["event_id"],
        event_type=kind if isinstance(kind, str) and len(kind) <= 200 else None,
        subject=row["subject"], deliveries=row["deliveries"], error_class=cls, error=text,
        event_time=_time(envelope.get("time")), dead_lettered_at=row["created_at"])


def admin_dead_letter_router(service: str) -> APIRouter:
    """``GET /dead-letters/<service>``: this service's dead letters for region admins."""
    kind = CursorKind(f"{service}.dead-letters", DeadLetterPosition)
    # (no postponed annotations in this module: the route's annotations name ``kind``)
    router = APIRouter(tags=["dead-letters"])

    @router.get(
        f"/dead-letters/{service}",
        response_model=DeadLetterList,
        summary=f"Events the {service} service gave up on, newest first (no payload)",
        description="For region admins (any other role: 403). Events are not tagged by "
        "region and carry personal data, so every region admin sees the same metadata and "
        "never the event itself: id, type, subject, consumer, deliveries, when it was "
        "written and given up, and the error's class with its first line (at most 200 "
        "characters, anything that could name a person masked). Cursor paginated.",
        responses=problems(401, 403, 422),
    )
    async def dead_letters(
        request: Request, rt: RuntimeDep,
        principal: Annotated[Principal, Depends(require(Role.region_admin))],
        before: Annotated[DeadLetterPosition | None, Depends(kind.query)],
        limit: LimitQuery = 50,
    ) -> DeadLetterList:
        if not principal.region:
            raise Forbidden("only a region admin may do this")
        page = await newest(rt, before, limit)
        return DeadLetterList(items=[summary(service, r) for r in page.items],
                              next_cursor=kind.encode(request, page.next))

    return router
