"""The gateway app: ``uvicorn gateway.main:app``.

The one public entry: authenticates (session tokens from OIDC or the dev login, provider API
keys), rate-limits per caller, forwards ``/api/v1/...`` to the owning service with a
short-lived principal token (``gateway.proxy``), serves the login pages, and publishes the merged
OpenAPI document and the AsyncAPI document of the events. Owns no business data.

This module only assembles the app; the routes are in ``gateway.ops`` (health, metrics,
documents), ``gateway.dev_login``, ``gateway.browser_session`` (logout) and
``gateway.oidc``; the web pages are ``gateway.web``.

Middleware, outermost first: request id and access log → security headers → CORS (when
origins are configured) → the public API proxy → the body limit of the gateway's own routes →
OPTIONS and the Allow of 405s → OIDC session (state and nonce) → the routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware

from gateway import browser_session, dev_login, docs, oidc, ops, web
from gateway.browser_session import BrowserSession
from gateway.proxy import PublicApi
from gateway.runtime import Gate
from gateway.security import BodyLimit, SecurityHeaders
from gateway.settings import Settings
from gateway.upstreams import Upstreams, make_client
from kit import openapi
from kit.errors import install_problem_handlers
from kit.heap import settled_heap
from kit.logging import configure_logging
from kit.middleware import AllowedMethods, RequestContextMiddleware

log = structlog.get_logger("gateway")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json, service="gateway")
    gate = Gate.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gate.upstreams = Upstreams(settings.instances(), make_client(
            settings.upstream_client, timeout=settings.upstream_timeout_seconds,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            pool_size=settings.upstream_pool_size,
            keepalive_seconds=settings.upstream_keepalive_seconds),
            down_seconds=settings.upstream_down_seconds)
        gate.upstreams.start_health_checks(settings.upstream_health_seconds)
        gate.http = httpx.AsyncClient(timeout=5.0)
        if settings.dev_mode:
            log.warning("dev_mode_on", detail="demo login and /auth/dev-token are served "
                        "to loopback callers")
        try:
            with settled_heap():
                yield
        finally:
            await gate.upstreams.close()
            await gate.http.aclose()

    app = FastAPI(
        title="Seteli",
        description="Public API of the Seteli service-voucher marketplace. Every path under "
        "`/api/v1` is served by the service that owns it; the gateway authenticates the "
        "caller (session token, provider API key or browser session) and the service decides "
        "what the caller may see and do. Errors are RFC 9457 problem+json. Events between "
        "the services are described in the [AsyncAPI document](/asyncapi.json).",
        version="1.0.0", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
        redirect_slashes=False,
    )
    app.state.gate = gate
    install_problem_handlers(app)
    openapi.install(app)  # its own paths documented like the services' (problem+json)
    # Holds only the OpenID Connect state and nonce between login and callback.
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret,
                       session_cookie=("__Host-" if settings.tls else "") + "seteli_oidc",
                       max_age=600, same_site="lax", https_only=settings.tls)
    app.add_middleware(AllowedMethods)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(PublicApi, gate=gate)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key",
                           "If-Match", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "ETag", "Location"], max_age=600)
    app.add_middleware(SecurityHeaders, tls=settings.tls)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    browser = BrowserSession(gate)
    app.include_router(ops.router(gate, app.openapi))
    app.include_router(docs.router())
    app.include_router(dev_login.router(browser))
    app.include_router(browser_session.router(browser))
    app.include_router(oidc.router(settings, browser.start))
    web.mount(app, gate)
    return app


app = create_app()
