"""A company applies to become a provider (after a refused first try); a region admin signs in
with the demo login, approves the application with a reason (after a refused first try), reads
the decision in the audit log and downloads it as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.pages import VARIANTS
from tests.support import valid_business_id
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
WORDS = {"fi": {"save": "Tallenna päätös", "approved": "Hyväksytty", "csv": "CSV",
                "apply": "Hae palveluntuottajaksi", "send": "Lähetä hakemus"},
         "sv": {"save": "Spara beslutet", "approved": "Godkänd", "csv": "CSV",
                "apply": "Ansök om att bli serviceproducent", "send": "Skicka ansökan"}}


def apply_as_a_provider(pages: Any, stack: WebStack, words: dict[str, str]) -> str:
    """The application through the page, anonymously; returns the company's name."""
    page = pages.page
    pages.goto(stack.url, "/", "front")
    page.get_by_role("link", name=words["apply"]).click()
    pages.check("apply")
    page.get_by_role("button", name=words["send"]).click()
    pages.check("apply-errors")
    for field in ("business_id", "legal_name", "contact_email", "regions"):
        assert page.locator(f"#error-summary a[href='#field-{field}']").count() == 1, field
    page.fill("#field-business_id", "1234567-8")  # a wrong check digit: the register says so
    name = f"Hakija {uuid.uuid4().hex[:6]} Oy"
    page.fill("#field-legal_name", name)
    page.fill("#field-contact_name", "Maija Meikäläinen")
    page.fill("#field-contact_email", "maija@hakija.example")
    page.fill("#field-description-fi", "Työnhakuvalmennusta pienryhmissä.")
    page.locator("label[for=field-regions-pirkanmaa]").click()
    page.get_by_role("button", name=words["send"]).click()
    pages.check("apply-business-id")
    assert page.locator("#field-business_id").get_attribute("aria-invalid") == "true"
    page.fill("#field-business_id", valid_business_id(int(uuid.uuid4().hex[:6], 16) + 10**6))
    page.get_by_role("button", name=words["send"]).click()
    pages.check("applied")
    assert "done=sent" in page.url
    return name


@pytest.mark.parametrize(("lang", "javascript"), VARIANTS)
def test_region_admin_approves_an_application_and_reads_the_audit_log(
        stack: WebStack, open_pages: Any, lang: str, javascript: bool) -> None:
    pages = open_pages(lang, javascript)
    page = pages.page
    words = WORDS[lang]
    name = apply_as_a_provider(pages, stack, words)

    page.goto(stack.url + "/admin/providers")
    assert "/sign-in" in page.url
    page.locator("main a[href^='/auth/dev-login']").click()
    page.locator("form:has(input[name=user][value='admin-pirkanmaa']) button").click()
    assert "/admin/providers" in page.url
    pages.check("applications")
    page.get_by_role("link", name=name).click()
    pages.check("application")
    applicant_id = page.url.split("/admin/providers/")[1].split("?")[0]

    # approving needs a reason and a date: refused, both named
    page.locator("label[for=field-decision-approve]").click()
    page.get_by_role("button", name=words["save"]).click()
    pages.check("decision-errors")
    for field in ("reason", "valid_until"):
        assert page.locator(f"#error-summary a[href='#field-{field}']").count() == 1
        assert page.locator(f"#field-{field}").get_attribute("aria-invalid") == "true"
    assert page.locator("#field-decision-approve").is_checked()  # what was chosen stays

    reason = f"Liitteet tarkistettu ({lang})"
    page.fill("#field-reason", reason)
    page.fill("#field-valid_until", (date.today() + timedelta(days=365)).isoformat())
    page.get_by_role("button", name=words["save"]).click()
    pages.check("approved")
    assert "done=decided" in page.url
    assert words["approved"] in page.locator(".facts").inner_text()
    assert reason in page.locator(".history").inner_text()

    # the register shows the provider publicly now
    r = httpx.get(f"{stack.url}/api/v1/providers/{applicant_id}", timeout=10)
    assert [a["state"] for a in r.json()["accreditations"]] == ["approved"]

    page.locator("nav.main-nav a[href^='/admin/audit-log']").click()
    pages.check("audit-log")
    first_row = page.locator("tbody tr").first
    assert reason in first_row.inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name=words["csv"], exact=False).click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["reason"] == reason and rows[0]["action"] == "accreditation.approve"
    assert all(row["region"] == "pirkanmaa" for row in rows)
