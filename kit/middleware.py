"""Pure ASGI middleware: request id in and out, access log, HTTP metrics.

A client's ``X-Request-ID`` is kept only when it is 8–64 of ``[A-Za-z0-9._-]`` and holds
nothing shaped like a henkilötunnus; otherwise a new one is made (the id goes into every log
line of every service the request reaches). Paths are logged with henkilötunnus-shaped
segments masked."""

from __future__ import annotations

import json
import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit import metrics

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Shaped like a henkilötunnus (DDMMYY, a century sign, three digits, a check symbol), valid
# or not: such text is neither kept as a request id nor logged as it is.
HETU_SHAPED = re.compile(r"\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Za-z]")
MASK = "<masked>"
log = structlog.get_logger("http")

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            rid: str = bytes(value).decode("latin-1")
            if _VALID_ID.match(rid) and not HETU_SHAPED.search(rid):
                return rid
            break
    return new_request_id()


def new_request_id() -> str:
    """32 hex digits, never shaped like a henkilötunnus (so every service keeps it)."""
    rid = uuid.uuid4().hex
    while HETU_SHAPED.search(rid):
        rid = uuid.uuid4().hex
    return rid


def loggable_path(path: str) -> str:
    """``path`` with anything shaped like a henkilötunnus masked, and bounded in length."""
    return HETU_SHAPED.sub(MASK, path[:512])


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", rid.encode("latin-1"))

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answer here, inside the request context, so even a 500 carries the request id.
            log.exception("unhandled_error", path=loggable_path(scope["path"]))
            if started_response:
                raise
            status = 500
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": "Internal Server Error",
                    "status": 500,
                    "detail": "An unexpected error occurred; it has been logged with the "
                    "request id.",
                    "request_id": rid,
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        header,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            metrics.HTTP_LATENCY.labels(self.service, method, template).observe(elapsed)
            if scope["path"] not in QUIET_PATHS:
                log.info(
                    "request",
                    method=method,
                    path=loggable_path(scope["path"]),
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )


CANDIDATE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope: Scope) -> set[str]:
    """Every method some route of the app answers at this path (empty: no such path). Asked of
    the router's own matching, method by method, so it holds for included routers and mounts."""
    from starlette.routing import Match

    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", [])
    allowed = set()
    for method in CANDIDATE_METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.add(method)
    return allowed


class AllowedMethods:
    """``OPTIONS`` on any path answers 204 with ``Allow`` (every method of every route at that
    path, and OPTIONS); a 405 names the same in ``Allow`` (the router alone would name only the
    first route's methods, though several routes may share a path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(scope)
            if allowed:
                await send({"type": "http.response.start", "status": 204, "headers": [
                    (b"allow", allow_header(allowed).encode())]})
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = allowed_methods(scope)
                if allowed:
                    headers = [(k, v) for k, v in message.get("headers", [])
                               if k.lower() != b"allow"]
                    message["headers"] = [*headers, (b"allow", allow_header(allowed).encode())]
            await send(message)

        await self.app(scope, receive, send_with_allow)


def allow_header(methods: set[str]) -> str:
    return ", ".join(sorted(methods | {"OPTIONS"}))
