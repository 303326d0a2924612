"""A region admin, in Finnish with JavaScript: starts a default-assignment run (refused first:
a seed that is not a number), reads the run's summary (charts with their tables), assigns a
waiting voucher by hand (refused first without a reason), sees the next run keep it, and reads
the dead letters of the matching service."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser import api
from tests.webevents import deadline_passed, poison
from tests.webstack import WebStack

pytestmark = pytest.mark.browser
HOLDER = "010194-9777"  # a test person (individual number 900–999)


def sign_in_as_admin(pages: Any, stack: WebStack) -> None:
    page = pages.page
    page.goto(stack.url + "/admin/assignment-runs?lang=fi")
    page.locator("main a[href^='/auth/dev-login']").click()
    page.locator("form:has(input[name=user][value='admin-pirkanmaa']) button").click()
    assert "/admin/assignment-runs" in page.url


def test_region_admin_runs_default_assignment_and_reads_dead_letters(
        stack: WebStack, open_pages: Any) -> None:
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    voucher = api.issue(region_admin, budget["id"], hetu=HOLDER)
    deadline_passed(stack, voucher)
    event_id = poison(stack, {"voucher_id": str(uuid.uuid4())})

    pages = open_pages("fi", True)
    page = pages.page
    sign_in_as_admin(pages, stack)
    pages.check("assignment-runs")
    page.fill("#field-seed", "abc")
    page.get_by_role("button", name="Käynnistä ajo").click()
    pages.check("assignment-run-errors")
    assert page.locator("#error-summary a[href='#field-seed']").count() == 1
    page.fill("#field-seed", "")
    for _ in range(60):  # matching hears of the voucher's deadline through the broker
        page.get_by_role("button", name="Käynnistä ajo").click()
        page.wait_for_load_state()
        if page.locator(f"a[href*='voucher={voucher['id']}']").count():
            break
        page.goto(stack.url + "/admin/assignment-runs?lang=fi")
        page.wait_for_timeout(500)
    assert "done=run" in page.url
    pages.check("assignment-run")
    assert page.locator("svg.bar-chart").count() == 3
    assert page.locator("#table-municipality").count() == 1

    page.locator(f"a[href*='voucher={voucher['id']}']").click()
    page.wait_for_load_state()
    page.locator("#field-offering_id label").first.click()
    page.get_by_role("button", name="Tallenna osoitus").click()
    pages.check("assignment-override-errors")
    assert page.locator("#field-reason").get_attribute("aria-invalid") == "true"
    page.fill("#field-reason", "Haltijan pyynnöstä puhelimessa")
    page.get_by_role("button", name="Tallenna osoitus").click()
    assert "done=overridden" in page.url
    pages.check("assignment-overridden")

    page.locator("nav.main-nav a[href^='/admin/assignment-runs']").click()
    page.get_by_role("button", name="Käynnistä ajo").click()
    page.wait_for_load_state()
    row = page.locator("tr", has=page.locator(f"a[href*='voucher={voucher['id']}']"))
    assert "alueen virkailijan asettama" in row.inner_text()
    assert "Haltijan pyynnöstä puhelimessa" in row.inner_text()

    page.locator("nav.main-nav a[href^='/admin/dead-letters']").click()
    page.get_by_role("link", name="Suosittelu ja oletusosoitus").click()
    for _ in range(60):  # given up after its deliveries
        if event_id in page.content():
            break
        page.wait_for_timeout(500)
        page.reload()
    pages.check("dead-letters")
    assert event_id in page.content()
