"""Cursor pagination, one way for every list: ``?limit=`` (default 50, max 200) and an opaque,
signed ``cursor``.

A cursor is the position after the last item of a page (a small pydantic model per list, which
states the types and ranges a position may have), serialised and signed with HMAC-SHA256 under
a key derived from the service's principal secret and bound to the list it came from. Whatever
a client changes, forges or brings from another list is refused as a 422 naming ``cursor``
before any query runs; a position that is well signed is validated again all the same.

In a router::

    AUDIT = CursorKind("registry.audit-log", AuditPosition)

    async def audit_log(..., after: Annotated[AuditPosition | None, Depends(AUDIT.query)]):
        page = await use_case(..., after=after, limit=limit)
        return AuditPage(items=page.items, next_cursor=AUDIT.encode(request, page.next))

In a use case, fetch ``limit + 1`` rows and let :func:`paginate` cut the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from kit.errors import Unprocessable

LimitQuery = Annotated[int, Query(ge=1, le=200, description="page size (1–200)")]
CursorQuery = Annotated[str | None, Query(
    max_length=500, description="`next_cursor` of the previous page, as it was given")]

Position = TypeVar("Position", bound=BaseModel)
Item = TypeVar("Item")

_NOT_OURS = "is not a cursor this list returned"
_TAG_BYTES = 16


class CursorPosition(BaseModel):
    """Base of every list's position: no field beyond those declared, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    """Signs and verifies cursors with a key derived from ``secret`` (never the secret itself)."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"seteli cursor v1", hashlib.sha256).digest()

    def _tag(self, kind: str, payload: bytes) -> bytes:
        return hmac.new(self._key, kind.encode() + b"\0" + payload,
                        hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, kind: str, position: BaseModel) -> str:
        payload = position.model_dump_json().encode()
        return f"{_b64(payload)}.{_b64(self._tag(kind, payload))}"

    def decode(self, kind: str, cursor: str, model: type[Position]) -> Position:
        body, dot, tag = cursor.partition(".")
        try:
            payload, sent = _unb64(body), _unb64(tag)
        except ValueError:
            raise Unprocessable.field("cursor", _NOT_OURS) from None
        if not dot or not hmac.compare_digest(sent, self._tag(kind, payload)):
            raise Unprocessable.field("cursor", _NOT_OURS)
        try:
            return model.model_validate_json(payload)
        except ValidationError:
            raise Unprocessable.field("cursor", _NOT_OURS) from None


@dataclass(frozen=True)
class CursorKind(Generic[Position]):
    """The cursors of one list: ``name`` binds them to it, ``position`` says what they hold."""

    name: str
    position: type[Position]

    def query(self, request: Request, cursor: CursorQuery = None) -> Position | None:
        """Dependency: the position of the ``cursor`` query parameter (None on page one)."""
        if cursor is None:
            return None
        return _signer(request).decode(self.name, cursor, self.position)

    def encode(self, request: Request, position: Position | None) -> str | None:
        return None if position is None else _signer(request).encode(self.name, position)


def _signer(request: Request) -> CursorSigner:
    signer: CursorSigner = request.app.state.runtime.cursors
    return signer


@dataclass(frozen=True)
class Page(Generic[Item, Position]):
    """One page of a list and the position after it (None: this is the last page)."""

    items: list[Item]
    next: Position | None


def paginate(rows: Sequence[Item], limit: int,
             position_of: Callable[[Item], Position]) -> Page[Item, Position]:
    """``rows`` fetched with ``limit + 1``: the page, and the position after it if there is
    more."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items, position_of(items[-1]) if more else None)
