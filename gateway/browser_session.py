"""The browser's session: the session and CSRF cookies, and logout (the pages are
``gateway.web``).

A browser signs in through OIDC (``gateway.oidc``) or the dev login (``gateway.dev_login``);
both end in :meth:`BrowserSession.start`, which sets the session cookie and a CSRF token bound
to it. Forms post that token back; :meth:`BrowserSession.check_csrf` refuses any other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from contracts.principal import Principal
from gateway import csrf
from gateway.identity import issue_session
from gateway.runtime import Gate
from kit.errors import Forbidden


class BrowserSession:
    """Cookies of one gateway: names and flags from its settings."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.settings = gate.settings

    def set_cookie(self, resp: Response, name: str, value: str, *, http_only: bool) -> None:
        resp.set_cookie(name, value, httponly=http_only, secure=self.settings.tls,
                        samesite="lax", path="/", max_age=self.settings.session_ttl_seconds)

    def cookie(self, request: Request) -> str | None:
        return request.cookies.get(self.gate.session_cookie)

    def check_csrf(self, request: Request, sent: str | None) -> None:
        if not csrf.check(self.settings.session_secret,
                          cookie=request.cookies.get(self.gate.csrf_cookie), sent=sent,
                          session_cookie=self.cookie(request)):
            raise Forbidden("missing or wrong CSRF token")

    def start(self, resp: Response, principal: Principal) -> None:
        token = issue_session(principal, self.settings.session_secret,
                              self.settings.session_ttl_seconds)
        self.set_cookie(resp, self.gate.session_cookie, token, http_only=True)
        # a new session gets a new CSRF token: one from before the login no longer passes
        self.set_cookie(resp, self.gate.csrf_cookie,
                        csrf.issue(self.settings.session_secret, token), http_only=False)


def router(browser: BrowserSession) -> APIRouter:
    """``POST /auth/logout``."""
    router = APIRouter()
    gate, settings = browser.gate, browser.settings

    @router.post("/auth/logout", include_in_schema=False)
    async def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
        browser.check_csrf(request, csrf)
        token = browser.cookie(request)
        if token:
            gate.sessions.revoke(token)
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(gate.session_cookie, path="/", secure=settings.tls, httponly=True,
                           samesite="lax")
        return resp

    return router
