"""Optimistic concurrency: resources carry an integer ``version`` sent as the entity tag
``"<version>"``; a change with ``If-Match`` applies only while the tag still matches (else 412).

Routers take the header with :data:`IfMatchHeader` and hand the use case an :class:`IfMatch`;
the use case calls :meth:`IfMatch.check` with the version it has locked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kit.errors import Problem


class PreconditionFailed(Problem):
    status, title, type = 412, "Precondition Failed", "/problems/version-mismatch"


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_satisfied(header: str | None, version: int) -> bool:
    """RFC 9110 ``If-Match``: absent or ``*`` always matches; otherwise one of the listed tags
    must be the current one. Weak tags (``W/"3"``) and bare numbers (``3``) are accepted too:
    a version number is the whole entity tag here."""
    if header is None:
        return True
    header = header.strip()
    if header == "*":
        return True
    for raw in header.split(","):
        tag = raw.strip().removeprefix("W/").strip()
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            tag = tag[1:-1]
        if tag == str(version):
            return True
    return False


@dataclass(frozen=True)
class IfMatch:
    """The versions a change is conditional on (``None``: unconditional)."""

    header: str | None = None

    def check(self, version: int) -> None:
        if not if_match_satisfied(self.header, version):
            raise PreconditionFailed(
                f"the resource has changed (now version {version}); reload it and try again")


IfMatchHeader = Annotated[str | None, Header(
    alias="If-Match", description='the version last read, as an entity tag (`"3"`): the '
    "change applies only if nobody changed the resource meanwhile (else 412)")]


def if_match(header: IfMatchHeader = None) -> IfMatch:
    return IfMatch(header)


IfMatchDep = Annotated[IfMatch, Depends(if_match)]


def versioned(body: Any, status_code: int = 200,
              headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON answer carrying the resource's ``version`` as its ``ETag``."""
    headers = dict(headers or {})
    if isinstance(body, dict) and isinstance(body.get("version"), int):
        headers["ETag"] = etag(body["version"])
    return JSONResponse(body, status_code=status_code, headers=headers)


def versioned_model(model: BaseModel, status_code: int = 200,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    return versioned(model.model_dump(mode="json"), status_code, headers)
