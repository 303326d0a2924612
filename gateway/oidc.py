"""OpenID Connect login for citizens and region admins (authlib), ready for Suomi.fi
e-Identification: configure ``GATEWAY_OIDC_ISSUER``, ``GATEWAY_OIDC_CLIENT_ID``,
``GATEWAY_OIDC_CLIENT_SECRET`` and ``GATEWAY_OIDC_SCOPES``.

A citizen is recognised by the henkilötunnus claim, which becomes the person key at once and is
then dropped; a region admin by the admin-region claim. Anyone else is refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import authlib.deprecate  # its "always show" filter first, so that ours below comes before it

with warnings.catch_warnings():
    # authlib 1.9 warns at import when it uses httpx rather than the separate httpx2
    # distribution; the gateway uses httpx throughout (pinned, tested), so the warning says
    # nothing to act on, and it is silenced here, for this import only.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated",
                            category=authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from contracts.principal import Principal, Role
from gateway.identity import InvalidCredentials, person_key
from gateway.settings import Settings
from gateway.web import i18n
from kit.errors import Forbidden, NotFound, Unauthorized


def principal_from_claims(claims: dict[str, Any], settings: Settings) -> Principal:
    region = claims.get(settings.oidc_admin_region_claim)
    if isinstance(region, str) and region:
        return Principal(sub=f"oidc:{claims.get('sub', '')}", role=Role.region_admin,
                         region=region)
    hetu = claims.get(settings.oidc_hetu_claim)
    if isinstance(hetu, str) and hetu:
        try:
            key = person_key(settings.person_key_secret, hetu,
                             allow_temporary=settings.hetu_allow_temporary)
        except InvalidCredentials as exc:
            raise Forbidden("the identity provider sent an invalid identity code") from exc
        return Principal(sub=f"citizen:{key[:16]}", role=Role.citizen, person_key=key)
    raise Forbidden("this identity has no role in Seteli")


def router(settings: Settings, start_session: Callable[[Response, Principal], None]
           ) -> APIRouter:
    """``/auth/login`` → the identity provider → ``/auth/callback``; ``start_session`` sets the
    session (and a new CSRF token) on the response."""
    r = APIRouter(tags=["auth"])
    oauth = OAuth()
    if settings.oidc_issuer:
        oauth.register(
            "oidc",
            server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            client_kwargs={"scope": settings.oidc_scopes,
                           **({"code_challenge_method": "S256"} if settings.oidc_pkce else {})},
        )

    def client() -> Any:
        if not settings.oidc_issuer:
            raise NotFound("OpenID Connect login is not configured")
        return oauth.create_client("oidc")

    @r.get("/auth/login", summary="Start an OpenID Connect login", include_in_schema=False)
    async def login(request: Request) -> Response:
        oidc = client()
        redirect_uri = (settings.public_url.rstrip("/") + "/auth/callback"
                        if settings.public_url else str(request.url_for("oidc_callback")))
        params = {"ui_locales": i18n.negotiate(request)[0]}
        if settings.oidc_acr_values:
            params["acr_values"] = settings.oidc_acr_values
        response: Response = await oidc.authorize_redirect(request, redirect_uri, **params)
        return response

    @r.get("/auth/callback", name="oidc_callback", include_in_schema=False)
    async def callback(request: Request) -> Response:
        oidc = client()
        try:
            token = await oidc.authorize_access_token(request)
        except OAuthError as exc:
            raise Unauthorized(f"login failed: {exc.error}") from exc
        claims = dict(token.get("userinfo") or {})
        wanted = (settings.oidc_hetu_claim, settings.oidc_admin_region_claim)
        if not any(c in claims for c in wanted):
            claims |= dict(await oidc.userinfo(token=token))
        principal = principal_from_claims(claims, settings)
        request.session.clear()
        resp = RedirectResponse("/", status_code=303)
        start_session(resp, principal)
        return resp

    return r
