"""An anonymous citizen searches the offerings, pages through them, opens one and its
provider, and switches the language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.pages import VARIANTS
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
OTHER = {"fi": "sv", "sv": "fi", "en": "fi"}
WORDS = {"fi": {"found": "löytyi", "next": "Seuraava sivu", "first": "ensimmäiselle"},
         "sv": {"found": "hittades", "next": "Nästa sida", "first": "första sidan"}}


@pytest.mark.parametrize(("lang", "javascript"), VARIANTS)
def test_citizen_searches_opens_and_switches_language(
        stack: WebStack, open_pages: Any, lang: str, javascript: bool) -> None:
    pages = open_pages(lang, javascript)
    page = pages.page
    words = WORDS[lang]

    pages.goto(stack.url, "/", "front")
    page.select_option("#front-region", "pirkanmaa")
    page.locator("form.search-box button[type=submit]").click()
    pages.check("search-region")
    assert "region=pirkanmaa" in page.url
    heading = page.locator("#results-title").inner_text()
    assert words["found"] in heading
    assert int(heading.split()[0]) >= 4  # the demo data has at least four in Pirkanmaa

    # more filters: Swedish-speaking services, remote or not
    page.select_option("#field-language", "sv")
    page.locator("form.filters button[type=submit]").click()
    pages.check("search-swedish")
    results = page.locator(".result")
    assert results.count() >= 1
    swedish = {"fi": "ruotsi", "sv": "svenska"}[lang]
    for i in range(results.count()):
        assert swedish in results.nth(i).inner_text()

    # the API's cursor as the next-page link
    page.goto(stack.url + "/offerings?limit=2")
    first = page.locator(".result__title").all_inner_texts()
    assert len(first) == 2
    page.get_by_role("link", name=words["next"]).click()
    pages.check("search-page-2")
    second = page.locator(".result__title").all_inner_texts()
    assert second and not set(first) & set(second)
    assert page.get_by_role("link", name=words["first"], exact=False).count() == 1

    # one offering: the demo descriptions come in Finnish, Swedish and English, so the page's
    # own language is shown and nothing is marked as foreign (tests/unit/web: the fallback)
    page.locator(".result__title a").first.click()
    pages.check("offering")
    assert "/offerings/" in page.url
    assert page.locator("main .lead").inner_text().strip()
    assert page.locator("main .lead [lang]").count() == 0

    # the language switch is a link; the choice is kept in the links and a cookie
    other = OTHER[lang]
    page.locator(f'nav.lang-switch a[hreflang="{other}"]').click()
    pages.check("offering-switched", lang=other)
    assert f"lang={other}" in page.url
    page.locator(".facts a[href^='/providers/']").first.click()
    pages.check("provider", lang=other)
    page.goto(stack.url + "/accessibility")  # a bare URL: the cookie remembers the choice
    pages.check("accessibility", lang=other)
