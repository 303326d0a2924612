"""Languages of the pages: Finnish (default), Swedish and English.

Catalogues are gettext ``.po`` files under ``locale/<lang>/LC_MESSAGES/messages.po``, committed,
and compiled in memory when the gateway starts (no ``.mo`` files, no build step: a fresh clone
works). The message ids are the English texts; ``make messages`` extracts them from the
templates and the Python code of this package and updates the three catalogues.

The page language is, in order: ``?lang=`` in the URL, the ``seteli_lang`` cookie (set when a
language is chosen), the browser's ``Accept-Language``, Finnish.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from starlette.requests import Request

LANGS = ("fi", "sv", "en")
DEFAULT = "fi"
LANG_COOKIE = "seteli_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
HELSINKI = ZoneInfo("Europe/Helsinki")
# each language named in itself, for the language switch
NATIVE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> Translations:
    """The compiled catalogue of ``lang`` (read once per process)."""
    with catalogue_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain="messages")
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def chosen(value: str | None) -> str | None:
    return value if value in LANGS else None


def negotiate(request: Request, cookie_name: str = LANG_COOKIE) -> tuple[str, bool]:
    """(language, chosen in the URL): the URL's choice is remembered in the cookie."""
    wanted = chosen(request.query_params.get("lang"))
    if wanted:
        return wanted, True
    remembered = chosen(request.cookies.get(cookie_name))
    if remembered:
        return remembered, False
    return from_accept_language(request.headers.get("accept-language", "")), False


def from_accept_language(header: str) -> str:
    """The first of fi/sv/en in the browser's preferences (by q value), else Finnish."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = tag.strip()[:2].lower()
        if code in LANGS and q > 0:
            ranked.append((-q, i, code))
    return min(ranked)[2] if ranked else DEFAULT


def _locale(lang: str) -> str:
    return f"{lang}_FI"


@lru_cache(maxsize=8192)
def money(cents: int, lang: str) -> str:
    """Euro cents as people read them: ``950,00 €`` (remembered: Babel's formatting costs
    more than the rest of a row of a table)."""
    return format_currency(cents / 100, "EUR", locale=_locale(lang))


@lru_cache(maxsize=8192)
def decimal(value: float, lang: str, digits: int = 2) -> str:
    """A number with ``digits`` decimals as people read them (``1,15`` in Finnish)."""
    return format_decimal(value, "0." + "0" * digits, locale=_locale(lang))


@lru_cache(maxsize=8192)
def day(value: date | str | None, lang: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "medium", locale=_locale(lang))


def moment(value: datetime | str | None, lang: str) -> str:
    """A time from the API (RFC 3339 UTC) in Finnish time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return format_datetime(value, "short", tzinfo=HELSINKI, locale=_locale(lang))


@lru_cache(maxsize=1024)
def language_name(code: str, lang: str) -> str:
    """An ISO 639-1 code named in the page's language (``sv`` → "ruotsi" on a Finnish page)."""
    name = Locale.parse(lang).languages.get(code)
    return name if name else code


def pick(texts: Mapping[str, str | None] | None, lang: str) -> tuple[str, str]:
    """(text, its language) from a ``{"fi": …, "sv": …, "en": …}`` object: the page's
    language when given, else Finnish (always given), else whatever there is."""
    if not texts:
        return "", lang
    for code in (lang, DEFAULT, *LANGS):
        value = texts.get(code)
        if value:
            return value, code
    return "", lang
