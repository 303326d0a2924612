"""The gateway app: ``uvicorn gateway.main:app``.

The one public entry: authenticates (session tokens from OIDC or the dev login, provider API
keys), rate-limits per caller, forwards ``/api/v1/...`` to the owning service with a
short-lived principal token, and publishes the merged OpenAPI document. Owns no business data.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel, Field
from starlette.middleware.sessions import SessionMiddleware

from contracts.principal import Principal, Role, encode
from gateway import asyncapi, oidc, openapi, pages
from gateway.identity import (
    API_KEY_PREFIX,
    DEMO_USERS,
    ApiKeyVerifier,
    InvalidCredentials,
    demo_principal,
    issue_session,
    person_key,
    read_session,
)
from gateway.proxy import Upstreams, make_client
from gateway.ratelimit import RateLimiter
from gateway.routing import owner
from gateway.security import SecurityHeaders
from gateway.settings import Settings
from kit.errors import (
    Forbidden,
    NotFound,
    Unauthorized,
    Unprocessable,
    install_problem_handlers,
    problem_response,
    problems,
)
from kit.logging import configure_logging
from kit.middleware import RequestContextMiddleware

SESSION_COOKIE = "seteli_session"
CSRF_COOKIE = "seteli_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RATE_LIMITED = Counter("seteli_gateway_rate_limited_total", "Requests refused with 429")
log = structlog.get_logger("gateway")


class DevTokenIn(BaseModel):
    user: str | None = Field(default=None, description="a demo user id from GET /auth/dev-users")
    role: Role | None = None
    region: str | None = None
    provider_id: str | None = None
    henkilotunnus: str | None = Field(default=None, description="for role citizen")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    principal: Principal


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json, service="gateway")
    urls = {"registry": settings.registry_url.rstrip("/"),
            "voucher": settings.voucher_url.rstrip("/"),
            "matching": settings.matching_url.rstrip("/")}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.upstreams = Upstreams(urls, make_client(
            settings.upstream_client, timeout=settings.upstream_timeout_seconds,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            pool_size=settings.upstream_pool_size))
        app.state.http = httpx.AsyncClient(timeout=5.0)
        app.state.keys = ApiKeyVerifier(urls["registry"], settings.principal_secret,
                                        cache_seconds=settings.api_key_cache_seconds)
        app.state.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
        app.state.openapi_cache = (0.0, None)
        try:
            yield
        finally:
            await app.state.upstreams.close()
            await app.state.http.aclose()

    app = FastAPI(
        title="Seteli",
        description="Public API of the Seteli service-voucher marketplace. Errors are RFC 9457 "
        "problem+json. Events between the services are described in the "
        "[AsyncAPI document](/asyncapi.json).",
        version="1.0.0", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
    )
    install_problem_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key",
                           "If-Match", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"])
    # Holds only the OpenID Connect state and nonce between login and callback.
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret,
                       session_cookie="seteli_oidc", max_age=600, same_site="lax",
                       https_only=settings.tls)
    app.add_middleware(SecurityHeaders, tls=settings.tls)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    router = APIRouter()

    # ---------------------------------------------------------------- identity

    async def authenticate(request: Request) -> tuple[Principal | None, bool]:
        """(principal, by_cookie). Bad credentials are a 401, never a silent anonymous."""
        auth = request.headers.get("authorization", "")
        api_key = request.headers.get("x-api-key")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            if token.startswith(API_KEY_PREFIX):
                api_key = token
            else:
                return read_session(token, settings.session_secret), False
        if api_key:
            return await request.app.state.keys.verify(request.app.state.http, api_key), False
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return read_session(cookie, settings.session_secret), True
        return None, False

    def caller_key(request: Request, principal: Principal | None) -> str:
        if principal is not None:
            return principal.sub
        return "ip:" + (request.client.host if request.client else "unknown")

    # ---------------------------------------------------------------- operations

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        client: httpx.AsyncClient = request.app.state.http

        async def check(url: str) -> str:
            try:
                r = await client.get(url + "/readyz", timeout=2.0)
                return "ok" if r.status_code == 200 else f"status {r.status_code}"
            except httpx.HTTPError as exc:
                return f"error: {type(exc).__name__}"

        results = await asyncio.gather(*(check(u) for u in urls.values()))
        checks = dict(zip(urls, results, strict=True))
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(request, status=503, title="Service Unavailable",
                                detail=", ".join(f"{k}: {v}" for k, v in checks.items()))

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi_json(request: Request) -> JSONResponse:
        at, doc = request.app.state.openapi_cache
        if doc is None or time.monotonic() - at > 30:
            client: httpx.AsyncClient = request.app.state.http
            docs: dict[str, dict[str, Any]] = {}
            for name, url in urls.items():
                try:
                    r = await client.get(url + "/openapi.json")
                    if r.status_code == 200:
                        docs[name] = r.json()
                except httpx.HTTPError:
                    log.warning("openapi_unavailable", service=name)
            doc = openapi.merge(request.app.openapi(), docs)
            if len(docs) == len(urls):
                request.app.state.openapi_cache = (time.monotonic(), doc)
        return JSONResponse(doc)

    @router.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Seteli API")

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi.document())

    # ---------------------------------------------------------------- dev login

    def dev_principal(body: DevTokenIn) -> Principal:
        if body.user:
            user = next((u for u in DEMO_USERS if u.id == body.user), None)
            if user is None:
                raise Unprocessable.field("user", "no such demo user")
            return demo_principal(user, person_key_secret=settings.person_key_secret,
                                  allow_temporary=settings.hetu_allow_temporary)
        if body.role is Role.citizen:
            if not body.henkilotunnus:
                raise Unprocessable.field("henkilotunnus", "required for a citizen")
            try:
                key = person_key(settings.person_key_secret, body.henkilotunnus,
                                 allow_temporary=settings.hetu_allow_temporary)
            except InvalidCredentials as exc:
                raise Unprocessable.field("henkilotunnus", str(exc)) from exc
            return Principal(sub=f"citizen:{key[:16]}", role=Role.citizen, person_key=key)
        if body.role is Role.region_admin:
            if not body.region:
                raise Unprocessable.field("region", "required for a region admin")
            return Principal(sub=f"admin-{body.region}", role=Role.region_admin,
                             region=body.region)
        if body.role is Role.provider:
            if not body.provider_id:
                raise Unprocessable.field("provider_id", "required for provider staff")
            return Principal(sub=f"staff-{body.provider_id}", role=Role.provider,
                             provider_id=body.provider_id)
        raise Unprocessable.field("role", "give a demo user or a role")

    def require_dev() -> None:
        if not settings.dev_mode:
            raise NotFound("dev login is not available here")

    @router.get("/auth/dev-users", tags=["auth"], summary="Demo users (dev mode only)",
                responses=problems(404))
    async def dev_users() -> list[dict[str, Any]]:
        require_dev()
        return [{"id": u.id, "label": u.label, "role": u.role.value, "region": u.region}
                for u in DEMO_USERS]

    @router.post("/auth/dev-token", response_model=TokenOut, tags=["auth"],
                 summary="A bearer token for a demo user or any role (dev mode only)",
                 responses=problems(404, 422))
    async def dev_token(body: DevTokenIn) -> TokenOut:
        require_dev()
        principal = dev_principal(body)
        token = issue_session(principal, settings.session_secret, settings.session_ttl_seconds)
        return TokenOut(access_token=token, expires_in=settings.session_ttl_seconds,
                        principal=principal)

    @router.get("/auth/dev-login", include_in_schema=False)
    async def dev_login_page(request: Request) -> HTMLResponse:
        require_dev()
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        providers: list[dict[str, Any]] = []
        try:
            r = await request.app.state.http.get(urls["registry"] + "/providers",
                                                 params={"limit": 50})
            providers = r.json().get("items", []) if r.status_code == 200 else []
        except httpx.HTTPError:
            pass
        html = pages.dev_login(DEMO_USERS, providers, csrf, lang=pages.language(request))
        resp = HTMLResponse(html)
        set_cookie(resp, CSRF_COOKIE, csrf, http_only=False)
        return resp

    @router.post("/auth/dev-login", include_in_schema=False)
    async def dev_login(request: Request, csrf: Annotated[str, Form()],
                        user: Annotated[str | None, Form()] = None,
                        provider_id: Annotated[str | None, Form()] = None) -> Response:
        require_dev()
        check_csrf(request, csrf)
        body = (DevTokenIn(user=user) if user
                else DevTokenIn(role=Role.provider, provider_id=provider_id))
        principal = dev_principal(body)
        token = issue_session(principal, settings.session_secret, settings.session_ttl_seconds)
        resp = RedirectResponse("/", status_code=303)
        set_cookie(resp, SESSION_COOKIE, token, http_only=True)
        return resp

    @router.post("/auth/logout", include_in_schema=False)
    async def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
        check_csrf(request, csrf)
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @router.get("/", include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        principal = None
        try:
            principal, _ = await authenticate(request)
        except (InvalidCredentials, ConnectionError):
            principal = None
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        resp = HTMLResponse(pages.home(principal, csrf, dev_mode=bool(settings.dev_mode),
                                       lang=pages.language(request)))
        set_cookie(resp, CSRF_COOKIE, csrf, http_only=False)
        return resp

    def set_cookie(resp: Response, name: str, value: str, *, http_only: bool) -> None:
        resp.set_cookie(name, value, httponly=http_only, secure=settings.tls, samesite="lax",
                        path="/", max_age=settings.session_ttl_seconds)

    def check_csrf(request: Request, sent: str | None) -> None:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not sent or not secrets.compare_digest(cookie, sent):
            raise Forbidden("missing or wrong CSRF token")

    # ---------------------------------------------------------------- the API

    @router.api_route("/api/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                      include_in_schema=False)
    async def proxy(path: str, request: Request) -> Response:
        target = owner(path)
        if target is None:
            raise NotFound(f"no such resource: /api/v1/{path}")
        try:
            principal, by_cookie = await authenticate(request)
        except InvalidCredentials as exc:
            raise Unauthorized(str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        except ConnectionError:
            return problem_response(request, status=503, title="Service Unavailable",
                                    detail="credentials cannot be checked right now",
                                    headers={"Retry-After": "1"})
        if by_cookie and request.method in UNSAFE:
            check_csrf(request, request.headers.get("x-csrf-token"))
        wait = request.app.state.limiter.take(caller_key(request, principal))
        if wait:
            RATE_LIMITED.inc()
            return problem_response(
                request, status=429, title="Too Many Requests",
                detail="slow down: this caller is over its request rate",
                headers={"Retry-After": RateLimiter.retry_after(wait)})
        token = encode(principal, settings.principal_secret) if principal else None
        service, upstream_path = target
        rid = structlog.contextvars.get_contextvars().get("request_id", "")
        upstreams: Upstreams = request.app.state.upstreams
        return await upstreams.forward(request, service, upstream_path, rid, token)

    app.include_router(router)
    app.include_router(oidc.router(
        settings, lambda resp, token: set_cookie(resp, SESSION_COOKIE, token, http_only=True)))
    return app


app = create_app()
