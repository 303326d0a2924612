"""The gateway app: ``uvicorn gateway.main:app``.

The one public entry: authenticates (session tokens from OIDC or the dev login, provider API
keys), rate-limits per caller, forwards ``/api/v1/...`` to the owning service with a
short-lived principal token (``gateway.api``), serves the login pages, and publishes the merged
OpenAPI document and the AsyncAPI document of the events. Owns no business data.

Middleware, outermost first: request id and access log → security headers → CORS (when
origins are configured) → the public API proxy → OIDC session (state and nonce) → the routes.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field, SecretStr
from starlette.middleware.sessions import SessionMiddleware

from contracts.principal import Principal, Role
from gateway import asyncapi, csrf, oidc, pages
from gateway.api import PublicApi
from gateway.identity import (
    DEMO_USERS,
    InvalidCredentials,
    demo_principal,
    issue_session,
    person_key,
)
from gateway.openapi import MergedOpenApi
from gateway.proxy import Upstreams, make_client
from gateway.runtime import Gate
from gateway.security import SecurityHeaders
from gateway.settings import Settings, is_loopback
from kit.errors import (
    Forbidden,
    NotFound,
    Unprocessable,
    install_problem_handlers,
    problem_response,
    problems,
)
from kit.logging import configure_logging
from kit.middleware import RequestContextMiddleware

log = structlog.get_logger("gateway")
DEMO_REGIONS = ("pirkanmaa", "pohjois-pohjanmaa", "etela-pohjanmaa")


class DevTokenIn(BaseModel):
    user: str | None = Field(default=None, description="a demo user id from GET /auth/dev-users")
    role: Role | None = Field(default=None, description="citizen, provider or region_admin")
    region: str | None = Field(default=None, description="for role region_admin")
    provider_id: str | None = Field(default=None, description="for role provider")
    henkilotunnus: SecretStr | None = Field(
        default=None, description="for role citizen: a personal identity code; only its keyed "
        "hash (person_key) is kept, in the token")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    principal: Principal


class DemoUserOut(BaseModel):
    id: str
    label: str
    role: Role
    region: str | None = None
    provider_id: str | None = None


def local_request(request: Request) -> bool:
    """A request straight from this machine: loopback peer, loopback local address, and no
    forwarding headers (a reverse proxy on the same machine does not make a caller local)."""
    client = request.client.host if request.client else ""
    server = request.scope.get("server")
    if not is_loopback(client):
        return False
    if server and server[0] and _is_ip(server[0]) and not is_loopback(server[0]):
        return False
    return not any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip"))


def internal_request(request: Request) -> bool:
    """A request from this machine or the private network, not relayed by a proxy: how a
    metrics scraper calls, and how no one on the internet can (their requests come through the
    load balancer, which adds forwarding headers)."""
    client = request.client.host if request.client else ""
    if any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip")):
        return False
    try:
        address = ipaddress.ip_address(client.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def logging_without_locals() -> None:
    """Tracebacks in the logs without the frames' local variables: in the gateway those hold
    API keys, session tokens and, at login, the henkilötunnus."""
    config = structlog.get_config()
    safe = structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
    structlog.configure(processors=[safe if p is structlog.processors.dict_tracebacks else p
                                    for p in config["processors"]])


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json, service="gateway")
    logging_without_locals()
    gate = Gate.from_settings(settings)
    urls = gate.urls
    merged = MergedOpenApi(urls)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gate.upstreams = Upstreams(urls, make_client(
            settings.upstream_client, timeout=settings.upstream_timeout_seconds,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            pool_size=settings.upstream_pool_size,
            keepalive_seconds=settings.upstream_keepalive_seconds))
        gate.http = httpx.AsyncClient(timeout=5.0)
        if settings.dev_mode:
            log.warning("dev_mode_on", detail="demo login and /auth/dev-token are served "
                        "to loopback callers")
        try:
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
    )
    app.state.gate = gate
    install_problem_handlers(app)
    # Holds only the OpenID Connect state and nonce between login and callback.
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret,
                       session_cookie=("__Host-" if settings.tls else "") + "seteli_oidc",
                       max_age=600, same_site="lax", https_only=settings.tls)
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
    router = APIRouter()

    # ---------------------------------------------------------------- helpers

    def set_cookie(resp: Response, name: str, value: str, *, http_only: bool) -> None:
        resp.set_cookie(name, value, httponly=http_only, secure=settings.tls, samesite="lax",
                        path="/", max_age=settings.session_ttl_seconds)

    def session_cookie(request: Request) -> str | None:
        return request.cookies.get(gate.session_cookie)

    def page_csrf(request: Request) -> str:
        """The CSRF token for forms on this page: the cookie's if it is signed for the current
        session, else a new one."""
        current = request.cookies.get(gate.csrf_cookie)
        if csrf.valid_for(settings.session_secret, current, session_cookie(request)):
            assert current is not None
            return current
        return csrf.issue(settings.session_secret, session_cookie(request))

    def check_csrf(request: Request, sent: str | None) -> None:
        if not csrf.check(settings.session_secret, cookie=request.cookies.get(gate.csrf_cookie),
                          sent=sent, session_cookie=session_cookie(request)):
            raise Forbidden("missing or wrong CSRF token")

    def start_session(resp: Response, principal: Principal) -> None:
        token = issue_session(principal, settings.session_secret, settings.session_ttl_seconds)
        set_cookie(resp, gate.session_cookie, token, http_only=True)
        # a new session gets a new CSRF token: one from before the login no longer passes
        set_cookie(resp, gate.csrf_cookie, csrf.issue(settings.session_secret, token),
                   http_only=False)

    async def current_principal(request: Request) -> Principal | None:
        try:
            principal, _ = await gate.authenticate(
                request.headers.get("authorization"), request.headers.get("x-api-key"),
                session_cookie(request))
        except (InvalidCredentials, ConnectionError):
            return None
        return principal

    # ---------------------------------------------------------------- operations

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        assert gate.http is not None
        client = gate.http

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
    async def metrics(request: Request) -> Response:
        if not settings.metrics_public and not internal_request(request):
            raise NotFound("no such page")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        assert gate.http is not None
        return JSONResponse(await merged.document(app.openapi(), gate.http))

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
            if user is not None:
                return demo_principal(user, person_key_secret=settings.person_key_secret,
                                      allow_temporary=settings.hetu_allow_temporary)
            if body.user.startswith("staff-"):
                return Principal(sub=body.user, role=Role.provider,
                                 provider_id=body.user.removeprefix("staff-"))
            raise Unprocessable.field("user", "no such demo user")
        if body.role is Role.citizen:
            if not body.henkilotunnus:
                raise Unprocessable.field("henkilotunnus", "required for a citizen")
            try:
                key = person_key(settings.person_key_secret,
                                 body.henkilotunnus.get_secret_value(),
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
        raise Unprocessable.field("role", "give a demo user, or a role: citizen, provider or "
                                  "region_admin")

    def require_dev(request: Request) -> None:
        if not settings.dev_mode or not local_request(request):
            raise NotFound("dev login is not available here")

    async def demo_providers() -> list[dict[str, Any]]:
        """Provider staff to sign in as: the providers the registry lists publicly."""
        assert gate.http is not None
        try:
            r = await gate.http.get(urls["registry"] + "/providers", params={"limit": 50})
        except httpx.HTTPError:
            return []
        items = r.json().get("items", []) if r.status_code == 200 else []
        return [p for p in items if isinstance(p, dict) and "id" in p]

    @router.get("/auth/dev-users", tags=["auth"], response_model=list[DemoUserOut],
                include_in_schema=bool(settings.dev_mode),
                summary="Demo users: citizens, each region's admin, provider staff (dev mode)",
                responses=problems(404))
    async def dev_users(request: Request) -> list[DemoUserOut]:
        require_dev(request)
        users = [DemoUserOut(id=u.id, label=u.label, role=u.role, region=u.region)
                 for u in DEMO_USERS]
        users += [DemoUserOut(id=f"staff-{p['id']}", label=f"Staff, {p.get('legal_name', '')}",
                              role=Role.provider, provider_id=p["id"])
                  for p in await demo_providers()]
        return users

    @router.post("/auth/dev-token", response_model=TokenOut, tags=["auth"],
                 include_in_schema=bool(settings.dev_mode),
                 summary="A bearer token for a demo user or any role (dev mode only)",
                 description="Give `user` (from `GET /auth/dev-users`), or `role` with "
                 "`henkilotunnus` (citizen), `region` (region_admin) or `provider_id` "
                 "(provider). Not served outside development or to non-loopback callers.",
                 responses=problems(404, 422))
    async def dev_token(body: DevTokenIn, request: Request) -> TokenOut:
        require_dev(request)
        principal = dev_principal(body)
        token = issue_session(principal, settings.session_secret, settings.session_ttl_seconds)
        return TokenOut(access_token=token, expires_in=settings.session_ttl_seconds,
                        principal=principal)

    @router.get("/auth/dev-login", include_in_schema=False)
    async def dev_login_page(request: Request) -> HTMLResponse:
        require_dev(request)
        token = page_csrf(request)
        html = pages.dev_login(DEMO_USERS, await demo_providers(), token,
                               lang=pages.language(request))
        resp = HTMLResponse(html)
        set_cookie(resp, gate.csrf_cookie, token, http_only=False)
        return resp

    @router.post("/auth/dev-login", include_in_schema=False)
    async def dev_login(request: Request, csrf: Annotated[str, Form()],
                        user: Annotated[str | None, Form()] = None,
                        provider_id: Annotated[str | None, Form()] = None) -> Response:
        require_dev(request)
        check_csrf(request, csrf)
        body = (DevTokenIn(user=user) if user
                else DevTokenIn(role=Role.provider, provider_id=provider_id))
        resp = RedirectResponse("/", status_code=303)
        start_session(resp, dev_principal(body))
        return resp

    @router.post("/auth/logout", include_in_schema=False)
    async def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
        check_csrf(request, csrf)
        token = session_cookie(request)
        if token:
            gate.sessions.revoke(token)
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(gate.session_cookie, path="/", secure=settings.tls, httponly=True,
                           samesite="lax")
        return resp

    @router.get("/", include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        principal = await current_principal(request)
        token = page_csrf(request)
        resp = HTMLResponse(pages.home(principal, token, dev_mode=bool(settings.dev_mode),
                                       lang=pages.language(request)))
        set_cookie(resp, gate.csrf_cookie, token, http_only=False)
        return resp

    app.include_router(router)
    app.include_router(oidc.router(settings, start_session))
    return app


app = create_app()
