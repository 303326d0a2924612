"""Signing in: the choice of how (OpenID Connect, and the demo users in development), and the
demo login page itself (served at ``/auth/dev-login`` by the gateway, rendered here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.identity import DemoUser
from gateway.web.context import CtxDep, page

router = APIRouter()


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of this site, never another site."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path \
            and len(path) <= 300 and path.isprintable():
        return path
    return "/"


@router.get("/sign-in")
async def sign_in(ctx: CtxDep) -> HTMLResponse:
    settings = ctx.web.gate.settings
    return ctx.render("sign_in.html", oidc=bool(settings.oidc_issuer),
                      dev_mode=bool(settings.dev_mode),
                      next_path=safe_next(ctx.request.query_params.get("next")))


def dev_login_page(request: Request, users: Sequence[DemoUser],
                   providers: Sequence[dict[str, Any]]) -> HTMLResponse:
    """The demo login (development only: the gateway checks that before calling this)."""
    ctx = page(request)
    return ctx.render("dev_login.html", users=users,
                      providers=[p for p in providers if isinstance(p.get("legal_name"), str)],
                      next_path=safe_next(request.query_params.get("next")))
