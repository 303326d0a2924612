"""Security headers on every gateway response, and the body limit of its own routes (pure
ASGI)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import problem_response

BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Pages are server-rendered and work without JavaScript. The API docs page (gateway.docs)
# loads only the gateway's own files; Swagger UI sets style attributes in its markup, so /docs
# alone allows inline styles (never inline scripts, never another origin).
CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
DOCS_CSP = (b"default-src 'self'; img-src 'self' data:; "
            b"style-src 'self' 'unsafe-inline'; script-src 'self'; "
            b"frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] == "/docs" else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [*BASE_HEADERS, (b"content-security-policy", csp)]
                if self.tls:
                    extra.append(HSTS)
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Every request body the gateway's own routes read (logins, forms, ``/auth/dev-token``)
    is bounded like the API's (``GATEWAY_MAX_BODY_BYTES``; ``/api/v1`` is bounded by the
    proxy in front of this): a declared or counted excess is a 413 problem before any route
    runs. The body is read here and handed on whole."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._too_large(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(Request(scope), status=413, title="Content Too Large",
                                    detail=f"request bodies are limited to {self.limit} bytes")
        await response(scope, receive, send)
