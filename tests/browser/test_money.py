"""A region admin, in Swedish and without JavaScript: approves a provider's application, opens a
budget (after a refused first try), tops it up (after a refused first try), issues vouchers
from a CSV file (one row refused, named),
chooses a provider on a holder's behalf, approves a claim (after a refused first try), makes a
payment batch, downloads its file and confirms it paid, reads the spending report and its CSV,
and verifies the chain of money decisions."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser import api
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
AINO = "010594Y9032"
WORDS = {"save": "Spara beslutet", "open": "Öppna en budget", "open_it": "Öppna budgeten",
         "upload": "Bevilja från filen", "decide": "Spara beslutet",
         "batch": "Gör en betalningsomgång", "confirm": "Bekräfta att omgången betalats",
         "show": "Visa", "verify": "Verifiera kedjan", "intact": "oförändrade",
         "choose": "Spara valet", "top_up": "Lägg till pengarna"}


def spaced(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def sign_in_as_admin(pages: Any, stack: WebStack) -> None:
    page = pages.page
    page.goto(stack.url + "/admin/providers?lang=sv")
    page.locator("main a[href^='/auth/dev-login']").click()
    page.locator("form:has(input[name=user][value='admin-pirkanmaa']) button").click()
    assert "/admin/providers" in page.url


def test_region_admin_budget_vouchers_claims_payments_and_report(
        stack: WebStack, open_pages: Any, tmp_path: Any) -> None:
    applicant = stack.new_application()
    pages = open_pages("sv", False)
    page = pages.page
    sign_in_as_admin(pages, stack)
    page.get_by_role("link", name=applicant["legal_name"]).click()
    page.locator("label[for=field-decision-approve]").click()
    page.fill("#field-reason", "Bilagorna kontrollerade")
    page.fill("#field-valid_until", (date.today() + timedelta(days=365)).isoformat())
    page.get_by_role("button", name=WORDS["save"]).click()
    assert "done=decided" in page.url

    # a budget, refused first: no service, no amount
    page.locator("nav.main-nav a[href^='/admin/budgets']").click()
    pages.check("budgets")
    page.get_by_role("link", name=WORDS["open"]).click()
    page.wait_for_load_state()
    page.get_by_role("button", name=WORDS["open_it"]).click()
    pages.check("budget-errors")
    for field in ("service_type", "amount0"):
        assert page.locator(f"#error-summary a[href='#field-{field}']").count() == 1
    page.select_option("#field-service_type", "competence-training")
    page.fill("#field-amount0", "300 000")
    page.select_option("#field-funder1", "837")
    page.fill("#field-amount1", "100000,50")
    page.get_by_role("button", name=WORDS["open_it"]).click()
    pages.check("budget")
    assert "done=opened" in page.url
    budget_id = page.url.split("/admin/budgets/")[1].split("?")[0]
    assert page.locator("svg.bar-chart").count() == 1
    funders = spaced(page.locator("#funders-caption").locator("xpath=..").inner_text())
    assert "300 000,00" in funders and "100 000,50" in funders

    # a top-up from the municipality, refused first: an amount that is no amount, no reason
    page.select_option("#field-topup_funder", "837")
    page.fill("#field-topup_amount", "12,345")
    page.get_by_role("button", name=WORDS["top_up"]).click()
    pages.check("top-up-errors")
    for field in ("topup_amount", "topup_reason"):
        assert page.locator(f"#error-summary a[href='#field-{field}']").count() == 1
    page.fill("#field-topup_amount", "20 000")
    page.fill("#field-topup_reason", "Kommunens tilläggsanslag")
    page.get_by_role("button", name=WORDS["top_up"]).click()
    pages.check("topped-up")
    assert "done=topped_up" in page.url
    funders = spaced(page.locator("#funders-caption").locator("xpath=..").inner_text())
    assert "120 000,50" in funders

    # vouchers from a file: the second row's identity code is wrong and named so
    upload = tmp_path / "vouchers.csv"
    upload.write_text("henkilotunnus,value_cents,home_municipality,languages\n"
                      f"{AINO},200000,837,fi\n010101-0000,200000,837,fi\n", encoding="utf-8")
    page.set_input_files("#field-file", str(upload))
    page.get_by_role("button", name=WORDS["upload"]).click()
    pages.check("bulk-result")
    assert page.locator("tr.row-issued").count() == 1
    refused = page.locator("tr.row-refused")
    assert refused.count() == 1 and "henkilotunnus" in refused.inner_text()
    region_admin = api.admin(stack)
    voucher = next(v for v in region_admin.ok("GET", "/vouchers", params={"limit": 200})[
        "items"] if v["budget_id"] == budget_id)

    # at a service point, the admin chooses the provider on the holder's behalf (refused
    # first without a reason); the provider starts: a claim waits
    osaamo = stack.provider_named("Osaamo Koulutus Oy")
    offering = next(o for o in api.offerings(stack, "pirkanmaa", "competence-training")
                    if o["provider_id"] == osaamo["id"])
    page.locator("nav.main-nav a[href^='/admin/vouchers']").click()
    pages.check("vouchers")
    page.get_by_role("link", name=voucher["code"]).click()
    page.wait_for_load_state()
    page.select_option("#field-offering_id", offering["id"])
    page.get_by_role("button", name=WORDS["choose"]).click()
    pages.check("behalf-errors")
    assert page.locator("#field-reason").get_attribute("aria-invalid") == "true"
    page.fill("#field-reason", "På innehavarens begäran per telefon")
    for _ in range(50):  # the voucher service learns of the offering from the registry
        page.get_by_role("button", name=WORDS["choose"]).click()
        if "done=chosen" in page.url:
            break
        page.wait_for_timeout(300)
    pages.check("chosen-on-behalf")
    assert "Osaamo" in page.locator(".history").inner_text()
    api.staff(stack, osaamo["id"]).ok("POST", f"/vouchers/{voucher['id']}/start",
                                      {"evidence": "första mötet"})

    page.locator("nav.main-nav a[href^='/admin/claims']").click()
    pages.check("claims")
    page.locator("a[href^='/admin/claims/']", has_text="Osaamo").first.click()
    page.wait_for_load_state()
    page.get_by_role("button", name=WORDS["decide"]).click()
    pages.check("claim-errors")
    assert page.locator("#error-summary a[href='#field-decision']").count() == 1
    page.locator("label[for=field-decision-approve]").click()
    page.get_by_role("button", name=WORDS["decide"]).click()
    pages.check("claim-approved")
    assert "done=approve" in page.url

    page.locator("nav.main-nav a[href^='/admin/payments']").click()
    pages.check("payments")
    page.get_by_role("button", name=WORDS["batch"]).click()
    pages.check("payment-batch")
    assert "done=made" in page.url
    with page.expect_download() as download:
        page.locator("a[href*='format=csv']").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert any(osaamo["business_id"] in ",".join(r) for r in rows[1:]), rows
    page.get_by_role("button", name=WORDS["confirm"]).click()
    pages.check("payment-paid")
    assert "done=confirmation" in page.url

    page.locator("nav.main-nav a[href^='/admin/reports']").click()
    pages.check("report")
    row = page.locator("tbody tr", has_text="Kompetens")
    assert row.count() >= 1
    with page.expect_download() as download:
        page.locator("a[href*='format=csv']").click()
    report = list(csv.DictReader(io.StringIO(
        download.value.path().read_text(encoding="utf-8-sig"))))
    spent = {r["key"]: int(r["spent_cents"]) for r in report}
    assert spent["competence-training"] > 0

    page.locator("nav.main-nav a[href^='/admin/audit-chain']").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=WORDS["verify"]).click()
    pages.check("chain-verified")
    assert WORDS["intact"] in page.locator(".notice").inner_text()
    assert "voucher.chosen_on_behalf" in page.locator("main table").inner_text()
