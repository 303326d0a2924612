"""What every page handler gets: the language, the signed-in person, the CSRF token for its
forms, the API client, and the ways to answer (render, redirect, refuse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment

from contracts.principal import Principal, Role
from gateway import csrf
from gateway.identity import InvalidCredentials
from gateway.ratelimit import RateLimiter
from gateway.runtime import Gate
from gateway.web import i18n
from gateway.web.client import Api, ApiError
from gateway.web.forms import Form


class PageError(Exception):
    """Answered with the error page: ``message`` is a translated text."""

    def __init__(self, status: int, message: str, *, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class SignInNeeded(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass
class Web:
    """The pages' share of a running gateway: one Jinja2 environment per language."""

    gate: Gate
    envs: dict[str, Environment]
    lang_cookie: str
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)


@dataclass
class Ctx:
    request: Request
    web: Web
    lang: str
    lang_from_url: bool
    principal: Principal | None
    csrf_token: str
    csrf_is_new: bool
    api: Api

    @classmethod
    def build(cls, request: Request, web: Web) -> Ctx:
        gate = web.gate
        lang, from_url = i18n.negotiate(request, web.lang_cookie)
        cookie = request.cookies.get(gate.session_cookie)
        principal = None
        if cookie:
            try:
                principal = gate.sessions.read(cookie)
            except InvalidCredentials:
                cookie = None  # an ended or forged session: anonymous, and a token to match
        current = request.cookies.get(gate.csrf_cookie)
        if csrf.valid_for(gate.settings.session_secret, current, cookie):
            assert current is not None
            token, new = current, False
        else:
            token, new = csrf.issue(gate.settings.session_secret, cookie), True
        address = request.client.host if request.client else "unknown"
        return cls(request, web, lang, from_url, principal, token, new,
                   Api(gate, principal, address))

    # ------------------------------------------------------------------ translation

    def _(self, message: str, **values: Any) -> str:
        text = i18n.translations(self.lang).gettext(message)
        return text % values if values else text

    # ------------------------------------------------------------------ guards

    def limit(self) -> None:
        """The caller's token bucket, shared with its API calls."""
        caller = (self.principal.sub if self.principal is not None
                  else f"ip:{self.api.address}")
        if wait := self.web.gate.limiter.take(caller):
            raise PageError(429, self._("Too many requests. Wait a moment and try again."),
                            retry_after=RateLimiter.retry_after(wait))

    def require(self, role: Role) -> Principal:
        if self.principal is None:
            raise SignInNeeded(self.request.url.path)
        if self.principal.role is not role:
            raise PageError(403, self._("This page is not available with your sign-in."))
        return self.principal

    def own(self, role: Role) -> str:
        """What the signed-in person acts for: provider staff's provider id, a region
        admin's region."""
        principal = self.require(role)
        value = principal.provider_id if role is Role.provider else principal.region
        if not value:
            raise PageError(403, self._("This page is not available with your sign-in."))
        return value

    def check_csrf(self, sent: str | None) -> None:
        gate = self.web.gate
        if not csrf.check(gate.settings.session_secret,
                          cookie=self.request.cookies.get(gate.csrf_cookie), sent=sent,
                          session_cookie=self.request.cookies.get(gate.session_cookie)):
            raise PageError(403, self._("The form had expired. Please send it again."))

    # ------------------------------------------------------------------ forms

    async def submit(self, form: Form, method: str, path: str, body: Any, *,
                     headers: dict[str, str], known: set[str],
                     aliases: dict[str, str] | None = None,
                     messages: dict[int, tuple[str | None, str]] | None = None) -> int | None:
        """Send a form's body to the API: None when it was accepted, else the status of the
        refusal, told on the form — ``messages`` maps a status to (field or None for the
        summary, text); other 409s and 422s bring the API's own reasons to the fields. Any
        other failure raises (an error page)."""
        try:
            await self.api.send(method, path, body=body, headers=headers)
        except ApiError as exc:
            if messages and exc.status in messages:
                field, text = messages[exc.status]
                if field:
                    form.error(field, text)
                else:
                    form.general.append(text)
            elif exc.status in (409, 422):
                form.take_api_errors(exc, aliases=aliases, known=known)
            else:
                raise
            return exc.status
        return None

    # ------------------------------------------------------------------ links

    def url(self, path: str, **params: Any) -> str:
        """A link within the pages, carrying the language."""
        if not params:  # most links: the path and the language (a code of letters)
            return f"{path}?lang={self.lang}"
        pairs = [(k, v) for k, v in params.items() if v not in (None, "", False)]
        pairs.append(("lang", self.lang))
        return f"{path}?{urlencode(pairs, doseq=True)}"

    def switch_links(self) -> list[tuple[str, str, str]]:
        """(code, native name, URL of this page in that language)."""
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        path = self.request.url.path  # after a POST: the same page, shown afresh
        return [(code, i18n.NATIVE_NAMES[code],
                 f"{path}?{urlencode([*query, ('lang', code)])}") for code in i18n.LANGS]

    # ------------------------------------------------------------------ answers

    def _cookies(self, resp: Response) -> None:
        gate, settings = self.web.gate, self.web.gate.settings
        if self.csrf_is_new:
            resp.set_cookie(gate.csrf_cookie, self.csrf_token, httponly=False,
                            secure=settings.tls, samesite="lax", path="/",
                            max_age=settings.session_ttl_seconds)
        if self.lang_from_url and self.request.cookies.get(self.web.lang_cookie) != self.lang:
            resp.set_cookie(self.web.lang_cookie, self.lang, httponly=True, secure=settings.tls,
                            samesite="lax", path="/", max_age=365 * 24 * 3600)

    def render(self, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        env = self.web.envs[self.lang]
        html = env.get_template(template).render(ctx=self, lang=self.lang,
                                                 principal=self.principal, status=status,
                                                 **values)
        resp = HTMLResponse(html, status_code=status)
        resp.headers["content-language"] = self.lang
        resp.headers["cache-control"] = "no-store" if self.principal else "no-cache"
        resp.headers["vary"] = "Cookie, Accept-Language"
        self._cookies(resp)
        return resp

    def redirect(self, path: str, **params: Any) -> RedirectResponse:
        """POST-redirect-GET: 303 to a page of the site."""
        resp = RedirectResponse(self.url(path, **params), status_code=303)
        self._cookies(resp)
        return resp


def page_context(request: Request) -> Ctx:
    """The page's context, built once per request (the error pages reuse it)."""
    cached = getattr(request.state, "page_ctx", None)
    if isinstance(cached, Ctx):
        return cached
    ctx = Ctx.build(request, request.app.state.web)
    request.state.page_ctx = ctx
    return ctx


def page(request: Request) -> Ctx:
    ctx = page_context(request)
    ctx.limit()
    return ctx


CtxDep = Annotated[Ctx, Depends(page)]
