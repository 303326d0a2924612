"""Pieces every registry router uses: headers, ownership, entity tags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse

from contracts.principal import Principal
from kit.auth import PrincipalDep
from kit.errors import Unprocessable
from kit.idempotency import Outcome
from kit.pagination import Cursor
from services.registry import service
from services.registry.domain.versioning import etag

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", description="a retry with the same key and body returns the "
    "first answer and creates nothing new")]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", description='the version last read, as an entity tag (`"3"`): the '
    "change applies only if nobody changed the resource meanwhile (else 412)")]


async def own_provider(provider_id: str, principal: PrincipalDep) -> Principal:
    """The caller is staff (or a system) of ``provider_id``; for anyone else the provider does
    not exist (404), decided before the request body is even read."""
    service.ensure_own_provider(principal, provider_id)
    return principal


OwnProviderDep = Annotated[Principal, Depends(own_provider)]


def tagged(body: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer with the resource's version as its ETag."""
    headers = {}
    if isinstance(body, dict) and isinstance(body.get("version"), int):
        headers["ETag"] = etag(body["version"])
    return JSONResponse(body, status_code=status_code, headers=headers)


def outcome_response(outcome: Outcome) -> JSONResponse:
    response = tagged(outcome.body, outcome.status_code)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def cursor_field(cursor: str | None, name: str, kind: type[int] | type[str]) -> Any:
    """One value out of an opaque cursor this API handed out; anything else is a 422."""
    if cursor is None:
        return None
    value = Cursor.decode(cursor).get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Unprocessable.field("cursor", "is not a cursor this API returned")
    return value
