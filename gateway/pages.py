"""Server-rendered pages of the gateway (work without JavaScript), in Finnish, Swedish and
English. For now: the landing page and the dev login."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import Request

from contracts.principal import Principal
from gateway.identity import DemoUser

LANGS = ("fi", "sv", "en")
TEXT: dict[str, dict[str, str]] = {
    "title": {"fi": "Seteli – palvelusetelit", "sv": "Seteli – servicesedlar",
              "en": "Seteli – service vouchers"},
    "intro": {"fi": "Valitse palveluntuottaja palvelusetelillesi.",
              "sv": "Välj en serviceproducent för din servicesedel.",
              "en": "Choose a provider for your service voucher."},
    "signed_in": {"fi": "Kirjautuneena", "sv": "Inloggad", "en": "Signed in as"},
    "sign_in": {"fi": "Kirjaudu (kehitystila)", "sv": "Logga in (utvecklingsläge)",
                "en": "Sign in (development mode)"},
    "sign_out": {"fi": "Kirjaudu ulos", "sv": "Logga ut", "en": "Sign out"},
    "api_docs": {"fi": "Rajapinnan kuvaus", "sv": "API-beskrivning", "en": "API documentation"},
    "dev_title": {"fi": "Kehitystilan kirjautuminen", "sv": "Inloggning i utvecklingsläge",
                  "en": "Development sign-in"},
    "dev_note": {"fi": "Vain paikalliseen kehitykseen: valitse testikäyttäjä.",
                 "sv": "Endast för lokal utveckling: välj en testanvändare.",
                 "en": "For local development only: choose a test user."},
    "providers": {"fi": "Palveluntuottajan henkilöstö", "sv": "Serviceproducentens personal",
                  "en": "Provider staff"},
    "as": {"fi": "Kirjaudu", "sv": "Logga in", "en": "Sign in"},
}


def language(request: Request) -> str:
    wanted = request.query_params.get("lang")
    if wanted in LANGS:
        return wanted
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGS:
            return code
    return "fi"


def t(key: str, lang: str) -> str:
    return TEXT[key][lang]


def _page(lang: str, title: str, body: str) -> str:
    switch = " · ".join(f'<a href="?lang={code}" hreflang="{code}" lang="{code}">'
                        f"{code.upper()}</a>" for code in LANGS)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title></head><body>"
            f'<nav aria-label="language">{switch}</nav><main>{body}</main></body></html>')


def home(principal: Principal | None, csrf: str, *, dev_mode: bool, lang: str) -> str:
    parts = [f"<h1>{escape(t('title', lang))}</h1>", f"<p>{escape(t('intro', lang))}</p>"]
    if principal:
        who = principal.region or principal.provider_id or principal.sub
        parts.append(f"<p>{escape(t('signed_in', lang))}: {escape(principal.role.value)} "
                     f"({escape(who)})</p>"
                     f'<form method="post" action="/auth/logout">'
                     f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                     f'<button type="submit">{escape(t("sign_out", lang))}</button></form>')
    elif dev_mode:
        parts.append(f'<p><a href="/auth/dev-login">{escape(t("sign_in", lang))}</a></p>')
    parts.append(f'<p><a href="/docs">{escape(t("api_docs", lang))}</a></p>')
    return _page(lang, t("title", lang), "".join(parts))


def dev_login(users: list[DemoUser], providers: list[dict[str, Any]], csrf: str, *,
              lang: str) -> str:
    def form(field: str, value: str, label: str) -> str:
        return (f'<li><form method="post" action="/auth/dev-login">'
                f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                f'<input type="hidden" name="{field}" value="{escape(value)}">'
                f'<button type="submit">{escape(t("as", lang))}: {escape(label)}</button>'
                f"</form></li>")

    body = [f"<h1>{escape(t('dev_title', lang))}</h1>", f"<p>{escape(t('dev_note', lang))}</p>",
            "<ul>", *(form("user", u.id, u.label) for u in users), "</ul>",
            f"<h2>{escape(t('providers', lang))}</h2><ul>",
            *(form("provider_id", p["id"], p["legal_name"]) for p in providers), "</ul>"]
    return _page(lang, t("dev_title", lang), "".join(body))
