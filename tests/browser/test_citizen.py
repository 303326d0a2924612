"""An anonymous citizen searches the offerings, pages through them, opens one and its
provider, and switches the language; a citizen with a voucher compares the providers with their
results, ratings, premises and accessibility."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import api
from tests.browser.pages import VARIANTS
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
OTHER = {"fi": "sv", "sv": "fi", "en": "fi"}
WORDS = {"fi": {"found": "löytyi", "next": "Seuraava sivu", "first": "ensimmäiselle",
                "address": "Osoite", "access": "Toimitilan saavutettavuus",
                "too_few": "Liian vähän osallistujia tulosten näyttämiseen",
                "few": "vähän arvioita, heikko ohje",
                "new": "Uudet asiakkaat", "ratings": "Arviot"},
         "sv": {"found": "hittades", "next": "Nästa sida", "first": "första sidan",
                "address": "Adress", "access": "Lokalens tillgänglighet",
                "too_few": "För få deltagare för att visa resultat",
                "few": "få betyg, en svag vägledning",
                "new": "Nya kunder", "ratings": "Betyg"}}


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
    facts = page.locator("main .facts").inner_text()
    assert words["address"] in facts and words["access"] in facts and words["new"] in facts

    # the language switch is a link; the choice is kept in the links and a cookie
    other = OTHER[lang]
    page.locator(f'nav.lang-switch a[hreflang="{other}"]').click()
    pages.check("offering-switched", lang=other)
    assert f"lang={other}" in page.url
    page.locator(".facts a[href^='/providers/']").first.click()
    pages.check("provider", lang=other)
    page.goto(stack.url + "/accessibility")  # a bare URL: the cookie remembers the choice
    pages.check("accessibility", lang=other)


@pytest.mark.parametrize(("lang", "javascript"), VARIANTS)
def test_citizen_compares_results_ratings_and_premises(
        stack: WebStack, open_pages: Any, lang: str, javascript: bool) -> None:
    region_admin = api.admin(stack)
    voucher = api.issue(region_admin, api.budget(region_admin, "career-guidance")["id"])
    # the matching service learns of the voucher from its event, a moment after the answer
    region_admin.until_ok("GET", f"/recommendations/{voucher['id']}")
    offerings = api.offerings(stack, "pirkanmaa", "career-guidance")
    api.earlier_customers(stack, offerings)
    pages = open_pages(lang, javascript)
    page = pages.page
    words = WORDS[lang]

    page.goto(stack.url + f"/vouchers/{voucher['id']}/compare")
    assert "/sign-in" in page.url
    page.locator("main a[href^='/auth/dev-login']").click()
    page.locator("form:has(input[name=user][value='citizen-maija']) button").click()
    assert f"/vouchers/{voucher['id']}/compare" in page.url
    pages.check("compare-results")
    assert page.locator("#no-ranking").count() == 0
    glance = page.locator("table:has(#glance-title)")
    assert glance.locator("th[scope=col]", has_text=words["ratings"]).count() == 1
    assert glance.locator("th[scope=row]").count() >= 2
    text = page.locator("main").inner_text()
    # each run adds two ratings to one provider and three to another: an average is shown
    # with the word that it is from few ratings (tests/integration/web: fewer than three)
    for key in ("too_few", "few", "address", "access", "new"):
        assert words[key] in text, key
