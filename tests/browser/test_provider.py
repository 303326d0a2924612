"""Provider staff sign in with the demo login, publish an offering (after a refused first
try), change its open places, and create, use and revoke an API key."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.pages import VARIANTS
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
WORDS = {"fi": {"publish": "Julkaise uusi palvelu", "submit": "Julkaise",
                "places": "Muuta vapaiden paikkojen määrää", "save": "Tallenna",
                "create_key": "Luo avain", "revoke": "Peru", "sign_out": "Kirjaudu ulos",
                "sign_in": "Kirjaudu sisään", "error": "Virhe:"},
         "sv": {"publish": "Publicera en ny tjänst", "submit": "Publicera",
                "places": "Ändra antalet lediga platser", "save": "Spara",
                "create_key": "Skapa en nyckel", "revoke": "Återkalla", "sign_out": "Logga ut",
                "sign_in": "Logga in", "error": "Fel:"}}


@pytest.mark.parametrize(("lang", "javascript"), VARIANTS)
def test_provider_staff_publish_change_capacity_and_manage_keys(
        stack: WebStack, open_pages: Any, lang: str, javascript: bool) -> None:
    pages = open_pages(lang, javascript)
    page = pages.page
    words = WORDS[lang]
    provider = stack.provider_named("Polku Valmennus Oy")

    # a page for staff sends an anonymous visitor to sign in, and back after it
    page.goto(stack.url + "/staff/offerings")
    assert "/sign-in" in page.url
    pages.check("sign-in")
    page.locator("main a[href^='/auth/dev-login']").click()
    pages.check("dev-login")
    page.locator(f"form:has(input[name=provider_id][value='{provider['id']}']) button").click()
    assert "/staff/offerings" in page.url
    pages.check("offerings")

    page.get_by_role("link", name=words["publish"]).click()
    pages.check("new-offering")
    # sent empty: every missing field is named at the top and tied to its field
    page.get_by_role("button", name=words["submit"], exact=True).click()
    pages.check("new-offering-errors")
    summary = page.locator("#error-summary")
    assert summary.locator("li").count() >= 6
    title = page.locator("#field-title-fi")
    assert title.get_attribute("aria-invalid") == "true"
    described = (title.get_attribute("aria-describedby") or "").split()
    assert "field-title-fi-error" in described
    # the error is told in words, not only in colour
    assert page.locator("#field-title-fi-error").inner_text().startswith(words["error"])
    summary.locator("a[href='#field-title-fi']").click()  # the summary leads to the field
    if javascript:
        assert page.evaluate("document.activeElement.id") == "field-title-fi"

    name = f"Testivalmennus {uuid.uuid4().hex[:6]}"
    page.select_option("#field-region", "pirkanmaa")
    page.select_option("#field-service_type", "job-search-coaching")
    page.fill("#field-title-fi", name)
    page.fill("#field-description-fi", "Valmennusta työnhakuun pienissä ryhmissä.")
    page.check("#field-municipalities-837")  # Tampere
    page.check("#field-languages-fi")
    page.fill("#field-unit_price", "1 200,50")
    page.fill("#field-capacity", "5")
    page.fill("#field-next_start", (date.today() + timedelta(days=30)).isoformat())
    page.fill("#field-duration_days", "30")
    page.get_by_role("button", name=words["submit"], exact=True).click()
    pages.check("offering-published")
    assert "done=created" in page.url
    row = page.locator("tr", has_text=name)
    assert row.locator("td").nth(3).inner_text() == "5"

    # the public API shows what the page published, price in cents
    found = httpx.get(stack.url + "/api/v1/offerings", params={"q": name}, timeout=10).json()
    assert [(o["unit_price_cents"], o["capacity"]) for o in found["items"]] == [(120_050, 5)]

    row.get_by_role("link", name=words["places"]).click()
    pages.check("capacity")
    page.fill("#field-capacity", "3")
    page.get_by_role("button", name=words["save"], exact=True).click()
    pages.check("capacity-changed")
    assert page.locator("tr", has_text=name).locator("td").nth(3).inner_text() == "3"

    page.locator("nav.main-nav a[href^='/staff/api-keys']").click()
    pages.check("api-keys")
    page.get_by_role("button", name=words["create_key"]).click()
    pages.check("api-key-errors")
    assert page.locator("#field-name").get_attribute("aria-invalid") == "true"
    page.fill("#field-name", "Kassajärjestelmä")
    page.get_by_role("button", name=words["create_key"]).click()
    pages.check("api-key-created", screenshot=False)  # the key is a secret: no picture of it
    key = page.locator("#new-key").input_value()
    assert key.startswith("stl_")
    own = f"/api/v1/providers/{provider['id']}/api-keys"
    r = httpx.get(stack.url + own, headers={"X-API-Key": key}, timeout=10)
    assert r.status_code == 200, r.text  # the key works as the provider's system

    page.locator("tr", has_text="Kassajärjestelmä").get_by_role(
        "button", name=words["revoke"]).first.click()
    pages.check("api-key-revoked")
    assert "done=revoked" in page.url
    assert httpx.get(stack.url + own, headers={"X-API-Key": key},
                     timeout=10).status_code == 401

    page.get_by_role("button", name=words["sign_out"]).click()
    pages.check("signed-out")
    assert page.locator("nav.main-nav").get_by_role("link", name=words["sign_in"]).count() == 1
