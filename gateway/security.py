"""Security headers on every gateway response (pure ASGI)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Pages are server-rendered and work without JavaScript; the API docs page loads its assets
# from the CDN that FastAPI's Swagger UI uses, so /docs gets a policy of its own.
CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
DOCS_CSP = (b"default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
            b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            b"script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
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
        csp = DOCS_CSP if scope["path"] in ("/docs", "/redoc") else CSP

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
