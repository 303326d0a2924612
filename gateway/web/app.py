"""Wiring of the pages into the gateway app: ``mount(app, gate)``.

Adding a page: a handler in one of ``routes/`` taking ``ctx: CtxDep`` (language, signed-in
person, CSRF token, API client), calling the API through ``ctx.api`` and answering with
``ctx.render("<template>.html", ...)`` or, after a form, ``ctx.redirect(...)``; a template in
``templates/`` extending ``base.html``; its texts in ``_("…")`` and then ``make messages``
and the Finnish and Swedish translations in ``locale/``.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.runtime import Gate
from gateway.web import charts, i18n
from gateway.web.client import ApiError
from gateway.web.context import Ctx, PageError, SignInNeeded, Web, page_context
from gateway.web.routes import router

HERE = Path(__file__).parent
STATIC_PATH = "/assets"


def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]

    def text(texts: dict[str, str | None] | None) -> Markup:
        """Text in the page's language, or marked with the language it is in."""
        value, code = i18n.pick(texts, lang)
        if code == lang:
            return escape(value)
        return Markup('<span lang="{}">{}</span>').format(code, value)

    env.globals.update(text=text, static=STATIC_PATH, bar_chart=charts.bar_chart,
                       money_text=lambda cents: i18n.money(int(cents), lang))
    env.filters.update(
        money=lambda cents: i18n.money(int(cents), lang),
        day=lambda v: i18n.day(v, lang),
        moment=lambda v: i18n.moment(v, lang),
        language_name=lambda code: i18n.language_name(code, lang),
        decimal=lambda value, digits=2: i18n.decimal(value, lang, digits),
    )
    return env


def mount(app: FastAPI, gate: Gate) -> Web:
    """Serve the pages, their static files and their error pages from ``app``."""
    prefix = "__Host-" if gate.settings.tls else ""
    web = Web(gate, {lang: environment(lang) for lang in i18n.LANGS},
              lang_cookie=f"{prefix}{i18n.LANG_COOKIE}")
    app.state.web = web
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="web-static")
    app.include_router(router)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        ctx = page_context(request)
        resp = ctx.render("error.html", status=exc.status, message=exc.message)
        if exc.retry_after:
            resp.headers["retry-after"] = exc.retry_after
        return resp

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        ctx = page_context(request)
        if exc.status == 401:
            return await sign_in_needed(request, SignInNeeded(request.url.path))
        return await page_error(request, as_page_error(ctx, exc))

    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        ctx = page_context(request)
        resp: RedirectResponse = ctx.redirect("/sign-in", next=exc.next_path)
        return resp

    previous = app.exception_handlers.get(StarletteHTTPException)

    async def not_found(request: Request, exc: Exception) -> Response:
        """A browser asking for a page that does not exist gets a page; API clients keep
        getting problem+json."""
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and "text/html" in request.headers.get("accept", "") \
                and not request.url.path.startswith("/api/"):
            ctx = page_context(request)
            return await page_error(request, PageError(404, as_page_error(
                ctx, ApiError(404)).message))
        assert previous is not None
        response = previous(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, not_found)
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(SignInNeeded, sign_in_needed)
    return web


def as_page_error(ctx: Ctx, exc: ApiError) -> PageError:
    """An API refusal the page did not handle itself, told in the page's language."""
    _ = ctx._
    messages: dict[int, str] = {
        403: _("This is not available with your sign-in."),
        404: _("The page or item was not found. It may have been removed, or it is not "
               "public."),
        409: _("This cannot be done in the item's current state."),
        412: _("Someone changed this item meanwhile. Open it again to see the current "
               "version."),
        429: _("Too many requests. Wait a moment and try again."),
    }
    if exc.status >= 500:
        return PageError(503, _("The service is not available right now. Please try again in "
                                "a moment."), retry_after=exc.retry_after)
    status = exc.status if exc.status in messages else 400
    message = messages.get(exc.status, _("The request could not be handled."))
    return PageError(status, message, retry_after=exc.retry_after)
