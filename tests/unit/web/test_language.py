"""Which language a page is in, and how texts, money and dates are shown in it."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.requests import Request

from gateway.web import i18n


def request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "query_string":
                    query.encode(), "headers": headers})


@pytest.mark.parametrize(("query", "cookie", "accept", "expected"), [
    ("", "", "", ("fi", False)),
    ("lang=sv", "", "", ("sv", True)),
    ("lang=sv", "seteli_lang=en", "fi", ("sv", True)),
    ("", "seteli_lang=en", "sv-FI", ("en", False)),
    ("", "", "sv-FI,sv;q=0.9,en;q=0.8", ("sv", False)),
    ("", "", "de-DE, en;q=0.5, sv;q=0.7", ("sv", False)),
    ("", "", "en-US", ("en", False)),
    ("lang=de", "seteli_lang=xx", "de", ("fi", False)),  # unknown choices are ignored
    ("lang=%00", "", "sv;q=abc", ("fi", False)),
])
def test_negotiation(query: str, cookie: str, accept: str, expected: tuple[str, bool]) -> None:
    assert i18n.negotiate(request(query, cookie, accept)) == expected


def test_pick_marks_the_language_a_text_is_in() -> None:
    texts = {"fi": "Uraohjaus", "sv": None, "en": "Career guidance"}
    assert i18n.pick(texts, "fi") == ("Uraohjaus", "fi")
    assert i18n.pick(texts, "sv") == ("Uraohjaus", "fi")  # no Swedish: Finnish, marked fi
    assert i18n.pick(texts, "en") == ("Career guidance", "en")
    assert i18n.pick(None, "sv") == ("", "sv")


def test_money_dates_and_language_names() -> None:
    assert i18n.money(120_050, "fi") == "1\xa0200,50\xa0€"
    assert i18n.money(95_000, "en") == "950,00\xa0€"  # English as written in Finland
    assert i18n.day("2026-03-04", "fi") == "4.3.2026"
    assert i18n.day(date(2026, 3, 4), "sv") == "4 mars 2026"
    assert i18n.moment("2026-06-01T09:30:00Z", "fi") == "1.6.2026 12.30"  # Helsinki summer
    assert i18n.language_name("sv", "fi") == "ruotsi"
    assert i18n.language_name("so", "sv") == "somaliska"
    assert i18n.language_name("zz", "fi") == "zz"
