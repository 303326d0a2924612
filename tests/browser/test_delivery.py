"""Provider staff start a voucher's service, complete it and report its outcome (after a
refused first try); each milestone is claimed; the region approves and pays the claims, and
the staff see them paid."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import api
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
MATTI = "081181-9984"
WORDS = {"start": "Aloita ja laskuta", "complete": "Päätä ja laskuta",
         "report": "Ilmoita ja laskuta", "waiting": "Odottaa päätöstä", "paid": "Maksettu"}


def test_provider_starts_reports_claims_and_sees_it_paid(
        stack: WebStack, open_pages: Any) -> None:
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    voucher = api.issue(region_admin, budget["id"], hetu=MATTI)
    provider = stack.provider_named("Polku Valmennus Oy")
    offering = next(o for o in api.offerings(stack, "pirkanmaa", "career-guidance")
                    if o["provider_id"] == provider["id"])
    api.Actor(stack, user="citizen-matti").until_ok(
        "POST", f"/vouchers/{voucher['id']}/choice", {"offering_id": offering["id"]})
    pages = open_pages("fi", True)
    page = pages.page

    page.goto(stack.url + "/staff/vouchers")
    page.locator("main a[href^='/auth/dev-login']").click()
    page.locator(f"form:has(input[name=provider_id][value='{provider['id']}']) button").click()
    assert "/staff/vouchers" in page.url
    pages.check("vouchers")
    page.locator(f"a[href^='/staff/vouchers/{voucher['id']}?']").click()
    pages.check("voucher")
    page.fill("#field-start-evidence", "Ensitapaaminen 1.12. Tampereella")
    page.get_by_role("button", name=WORDS["start"]).click()
    pages.check("started")
    assert "done=start" in page.url
    scheme = page.locator("#scheme-caption").locator("xpath=..")
    assert WORDS["waiting"] in scheme.locator("tr", has_text="Aloitus").inner_text()

    page.fill("#field-completion-evidence", "Viimeinen tapaaminen")
    page.get_by_role("button", name=WORDS["complete"]).click()
    page.wait_for_load_state()
    # the outcome: refused without the outcome and evidence, each error at its field
    page.select_option("#field-milestone-milestone", "outcome")
    page.get_by_role("button", name=WORDS["report"]).click()
    pages.check("outcome-errors")
    for field in ("milestone-outcome", "milestone-evidence"):
        assert page.locator(f"#error-summary a[href='#field-{field}']").count() == 1
        assert page.locator(f"#field-{field}").get_attribute("aria-invalid") == "true"
    page.select_option("#field-milestone-outcome", "employed")
    page.fill("#field-milestone-evidence", "Työsopimus alkaen 1.3.")
    page.get_by_role("button", name=WORDS["report"]).click()
    pages.check("outcome-reported")
    assert "done=milestone" in page.url

    page.locator("nav.main-nav a[href^='/staff/claims']").click()
    page.wait_for_load_state()
    mine = [c for c in region_admin.ok("GET", "/claims", params={"limit": 200})["items"]
            if c["voucher_id"] == voucher["id"]]
    assert len(mine) == 3
    for claim in mine:
        region_admin.ok("POST", f"/claims/{claim['id']}/decision", {"decision": "approve"})
    batch = region_admin.ok("POST", "/payments")
    region_admin.ok("POST", f"/payments/{batch['id']}/confirmation")

    page.locator("nav.main-nav a[href^='/staff/payments']").click()
    pages.check("payments")
    assert batch["id"] in page.locator("main table").inner_text()
    page.locator("nav.main-nav a[href^='/staff/claims']").click()
    page.locator("nav.tabs a[href*='status=paid']").click()
    pages.check("claims-paid")
    rows = page.locator("tbody tr", has=page.locator(f"a[href*='{voucher['id']}']"))
    assert rows.count() == 3
    assert all(WORDS["paid"] in t for t in rows.all_inner_texts())
