"""The pages' client of the public API: every call goes through the gateway's own routing
(``gateway.routing``) to the owning service, with a principal token for the signed-in person
(or none), exactly as a request to ``/api/v1/...`` with that person's credentials would. A page
therefore never shows or does what the API would refuse: the services decide."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import structlog

from contracts.principal import HEADER, Principal
from gateway.routing import owner
from gateway.runtime import Gate
from gateway.upstreams import UpstreamTimeout, UpstreamUnreachable

QueryValue = str | int | bool | None | Sequence[str]


def api_path(*segments: str) -> str:
    """``/offerings/<id>`` from parts, each percent-encoded; a dot segment (which a server
    could resolve to another path) or an empty one is refused as not found."""
    for s in segments:
        if s in ("", ".", ".."):
            raise ApiError(404, {"title": "Not Found", "detail": "no such resource"})
    return "/" + "/".join(quote(s, safe="") for s in segments)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    data: Any
    content: bytes = b""  # the body as received (a CSV file, say)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")


@dataclass
class ApiError(Exception):
    """A refusal of the API (4xx), a failing service (502/503/504), or a slow-down (429)."""

    status: int
    problem: dict[str, Any] = field(default_factory=dict)
    retry_after: str | None = None

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")

    @property
    def field_errors(self) -> list[tuple[str, str]]:
        out = []
        for e in self.problem.get("errors") or []:
            if isinstance(e, dict):
                out.append((str(e.get("field", "")), str(e.get("message", ""))))
        return out


def _query(params: Mapping[str, QueryValue] | None) -> str:
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for k, v in params.items():
        if v is None or v == "":
            continue
        if isinstance(v, bool):
            pairs.append((k, "true" if v else "false"))
        elif isinstance(v, str | int):
            pairs.append((k, str(v)))
        else:
            pairs.extend((k, str(x)) for x in v)
    return urlencode(pairs)


class Api:
    def __init__(self, gate: Gate, principal: Principal | None, address: str) -> None:
        self.gate = gate
        self.principal = principal
        self.address = address

    async def call(self, method: str, path: str, *, params: Mapping[str, QueryValue] | None
                   = None, body: Any = None, headers: Mapping[str, str] | None = None,
                   content: bytes | None = None, content_type: str = "") -> Reply:
        """``body`` is sent as JSON; or ``content`` as it is, with ``content_type``."""
        target = owner(path)
        if target is None:
            raise ApiError(404, {"title": "Not Found", "detail": f"no such resource: {path}"})
        service, upstream_path = target
        sent = {"accept": "application/json", "x-forwarded-for": self.address}
        rid = structlog.contextvars.get_contextvars().get("request_id")
        if rid:
            sent["x-request-id"] = str(rid)
        if self.principal is not None:
            sent[HEADER.lower()] = self.gate.tokens.token(self.principal)
        if content is not None:
            sent["content-type"] = content_type
        elif body is not None:
            content = orjson.dumps(body)
            sent["content-type"] = "application/json"
        sent.update({k.lower(): v for k, v in (headers or {}).items()})
        assert self.gate.upstreams is not None
        try:
            status, raw_headers, raw = await self.gate.upstreams.send(
                service, method, upstream_path, _query(params), content or b"", sent)
        except UpstreamTimeout:
            raise ApiError(504, {"title": "Gateway Timeout",
                                 "detail": f"the {service} service did not answer in time"}
                           ) from None
        except UpstreamUnreachable:
            raise ApiError(502, {"title": "Bad Gateway",
                                 "detail": f"the {service} service is not reachable"}) from None
        hdrs = {k.lower(): v for k, v in raw_headers}
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            data = None
        return Reply(status, hdrs, data, bytes(raw))

    async def send(self, method: str, path: str, **kwargs: Any) -> Reply:
        """Like :meth:`call`, raising :class:`ApiError` for any answer but 2xx."""
        reply = await self.call(method, path, **kwargs)
        if not reply.ok:
            raise ApiError(reply.status, reply.problem, reply.headers.get("retry-after"))
        return reply

    async def get(self, path: str, params: Mapping[str, QueryValue] | None = None) -> Any:
        return (await self.send("GET", path, params=params)).data
