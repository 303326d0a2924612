"""The dev login (dev mode, loopback callers only): demo users, bearer tokens for any role, and
a sign-in page for the browser. Outside development every route here is a 404."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, SecretStr

from contracts.principal import Principal, Role
from gateway.browser_session import BrowserSession
from gateway.identity import (
    DEMO_USERS,
    InvalidCredentials,
    demo_principal,
    issue_session,
    person_key,
)
from gateway.settings import Settings, is_loopback
from gateway.web.routes import signin as signin_page
from kit.errors import NotFound, Unprocessable, problems


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


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def dev_principal(body: DevTokenIn, settings: Settings) -> Principal:
    """Who the dev login signs in: a demo user, or any role with what that role needs."""
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
            key = person_key(settings.person_key_secret, body.henkilotunnus.get_secret_value(),
                             allow_temporary=settings.hetu_allow_temporary)
        except InvalidCredentials as exc:
            raise Unprocessable.field("henkilotunnus", str(exc)) from exc
        return Principal(sub=f"citizen:{key[:16]}", role=Role.citizen, person_key=key)
    if body.role is Role.region_admin:
        if not body.region:
            raise Unprocessable.field("region", "required for a region admin")
        return Principal(sub=f"admin-{body.region}", role=Role.region_admin, region=body.region)
    if body.role is Role.provider:
        if not body.provider_id:
            raise Unprocessable.field("provider_id", "required for provider staff")
        return Principal(sub=f"staff-{body.provider_id}", role=Role.provider,
                         provider_id=body.provider_id)
    raise Unprocessable.field("role", "give a demo user, or a role: citizen, provider or "
                              "region_admin")


def router(browser: BrowserSession) -> APIRouter:
    router = APIRouter()
    gate, settings = browser.gate, browser.settings

    def require_dev(request: Request) -> None:
        if not settings.dev_mode or not local_request(request):
            raise NotFound("dev login is not available here")

    async def demo_providers() -> list[dict[str, Any]]:
        """Provider staff to sign in as: the providers the registry lists publicly."""
        assert gate.http is not None
        try:
            r = await gate.http.get(gate.urls["registry"] + "/providers", params={"limit": 50})
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
        principal = dev_principal(body, settings)
        token = issue_session(principal, settings.session_secret, settings.session_ttl_seconds)
        return TokenOut(access_token=token, expires_in=settings.session_ttl_seconds,
                        principal=principal)

    @router.get("/auth/dev-login", include_in_schema=False)
    async def dev_login_page(request: Request) -> HTMLResponse:
        require_dev(request)
        return signin_page.dev_login_page(request, DEMO_USERS, await demo_providers())

    @router.post("/auth/dev-login", include_in_schema=False)
    async def dev_login(request: Request, csrf: Annotated[str, Form()],
                        user: Annotated[str | None, Form()] = None,
                        provider_id: Annotated[str | None, Form()] = None,
                        next: Annotated[str | None, Form(max_length=300)] = None) -> Response:
        require_dev(request)
        browser.check_csrf(request, csrf)
        body = (DevTokenIn(user=user) if user
                else DevTokenIn(role=Role.provider, provider_id=provider_id))
        resp = RedirectResponse(signin_page.safe_next(next), status_code=303)
        browser.start(resp, dev_principal(body, settings))
        return resp

    return router
