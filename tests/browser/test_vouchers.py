"""A citizen with a service voucher signs in, compares the services it can be used for, chooses
a provider, changes it before the start, and rates the provider after the service is
completed; the voucher's history tells all of it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import api
from tests.browser.pages import VARIANTS
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
WORDS = {"fi": {"compare": "Vertaa ja valitse palveluntuottaja",
                "change": "Vaihda palveluntuottaja",
                "choose": "Valitse tämä palveluntuottaja", "change_to": "Vaihda tähän",
                "send": "Lähetä arvio", "chosen": "Palveluntuottaja valittu",
                "completed": "Valmis"},
         "sv": {"compare": "Jämför och välj en serviceproducent",
                "change": "Byt serviceproducent", "choose": "Välj den här serviceproducenten",
                "change_to": "Byt till den här", "send": "Skicka bedömningen",
                "chosen": "Serviceproducent vald", "completed": "Slutförd"}}


@pytest.mark.parametrize(("lang", "javascript"), VARIANTS)
def test_citizen_compares_chooses_changes_and_rates(
        stack: WebStack, open_pages: Any, lang: str, javascript: bool) -> None:
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    voucher = api.issue(region_admin, budget["id"])
    first, second = api.offerings(stack, "pirkanmaa", "career-guidance")[:2]
    pages = open_pages(lang, javascript)
    page = pages.page
    words = WORDS[lang]

    page.goto(stack.url + "/vouchers")
    assert "/sign-in" in page.url
    page.locator("main a[href^='/auth/dev-login']").click()
    page.locator("form:has(input[name=user][value='citizen-maija']) button").click()
    assert "/vouchers" in page.url
    pages.check("my-vouchers")
    card = page.locator(".voucher", has=page.locator(f"a[href^='/vouchers/{voucher['id']}?']"))
    assert voucher["code"] in card.inner_text()
    card.locator(f"a[href^='/vouchers/{voucher['id']}?']").first.click()
    pages.check("voucher")

    page.get_by_role("link", name=words["compare"]).click()
    pages.check("compare")
    ranked = page.locator(".factors").count() > 0
    assert ranked or page.locator("#no-ranking").count() == 1
    page.locator(".result", has_text=first["provider_name"]).get_by_role(
        "button", name=words["choose"]).click()
    pages.check("chosen")
    assert "done=chosen" in page.url
    assert first["provider_name"] in page.locator(".facts").inner_text()

    page.get_by_role("link", name=words["change"]).click()
    page.wait_for_load_state()  # the compare page, checked above
    page.locator(".result", has_text=second["provider_name"]).get_by_role(
        "button", name=words["change_to"]).click()
    page.wait_for_load_state()  # the voucher page, checked above
    assert second["provider_name"] in page.locator(".facts").inner_text()
    assert words["chosen"] in page.locator(".state").inner_text()

    # the provider gives the service
    provider = api.staff(stack, second["provider_id"])
    provider.ok("POST", f"/vouchers/{voucher['id']}/start", {"evidence": "first meeting"})
    provider.ok("POST", f"/vouchers/{voucher['id']}/completion", {"evidence": "done"})

    page.reload()
    pages.check("completed")
    assert words["completed"] in page.locator(".state").inner_text()
    page.get_by_role("button", name=words["send"]).click()
    pages.check("rating-errors")
    assert page.locator("#error-summary a[href='#field-stars']").count() == 1
    page.locator("label[for=field-stars-4]").click()
    page.fill("#field-comment", "Hyvä ohjaaja.")
    page.get_by_role("button", name=words["send"]).click()
    pages.check("rated")
    assert "done=rated" in page.url
    history = page.locator(".history").inner_text()
    assert first["provider_name"] in history and second["provider_name"] in history
    assert api.staff(stack, second["provider_id"]).call(
        "POST", f"/vouchers/{voucher['id']}/rating", {"stars": 5}).status_code in (403, 404)
