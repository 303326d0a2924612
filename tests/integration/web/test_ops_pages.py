"""The region admins' default-assignment and dead-letter pages as a hostile or careless client
meets them: another region's run, the wrong role, forged cursors, bad seeds, missing CSRF
tokens and double submits — and an override made through the pages that the next run keeps.

Vouchers wait for a default assignment only after their choice deadline, which issuance never
sets in the past: the test tells matching, through the voucher stream as the voucher service
would, that one voucher's deadline has passed (a later version of its ``voucher.issued``)."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from typing import Any

import pytest

from tests.browser import api
from tests.integration.matching.conftest import person_code
from tests.integration.web.conftest import Browser
from tests.webevents import deadline_passed, poison
from tests.webstack import WebStack

pytestmark = pytest.mark.e2e
HETU = person_code(401)
SECRET_HETU = person_code(402)


@pytest.fixture(scope="module")
def waiting(stack: WebStack) -> dict[str, Any]:
    """A voucher waiting for a default assignment, as matching sees it."""
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    voucher = api.issue(region_admin, budget["id"], hetu=HETU)
    deadline_passed(stack, voucher)
    return voucher


def start_run(admin: Browser, key: str, seed: str = "") -> str:
    r = admin.http.post("/admin/assignment-runs", data={
        "csrf": admin.csrf(), "seed": seed, "idempotency_key": key})
    assert r.status_code == 303, r.text[:500]
    found = re.search(r"/admin/assignment-runs/([0-9a-f-]{36})", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def runs_of(stack: WebStack) -> list[str]:
    page = api.admin(stack).ok("GET", "/assignments", params={"limit": 200})
    return [r["run_id"] for r in page["items"]]


def until(check: Any, seconds: float = 40) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_pages_are_the_region_admins_only(stack: WebStack, admin: Browser,
                                          other_admin: Browser, maija: Browser) -> None:
    run_id = start_run(admin, str(uuid.uuid4()))
    page = f"/admin/assignment-runs/{run_id}"
    assert admin.http.get(page).status_code == 200
    assert other_admin.http.get("/admin/assignment-runs/..%2f..%2fbudgets").status_code == 404
    for path in (page, f"{page}?format=csv", f"/admin/assignment-runs/{uuid.uuid4()}",
                 f"{page}/override?voucher={uuid.uuid4()}", f"{page}/override"):
        r = other_admin.http.get(path, params={"lang": "sv"})
        assert r.status_code == 404 and '<html lang="sv">' in r.text, (path, r.status_code)
        assert "2026-12.1" not in r.text  # nothing of the run (its score version)
    assert run_id not in other_admin.http.get("/admin/assignment-runs").text
    for path in ("/admin/assignment-runs", page, "/admin/dead-letters"):
        assert maija.http.get(path).status_code == 403
    anonymous = Browser(stack.url)
    r = anonymous.http.get("/admin/assignment-runs")
    assert r.status_code == 303 and "/sign-in" in r.headers["location"]
    anonymous.close()
    # forged cursors lead back to the first page; an unknown part of the service is not found
    for path in ("/admin/assignment-runs", page):
        r = admin.http.get(path, params={"cursor": "forged.AAAA"})
        assert r.status_code == 303
    assert admin.http.get("/admin/dead-letters", params={"service": "gateway"}
                          ).status_code == 404


def test_start_refuses_bad_seeds_and_a_double_submit_makes_one_run(
        stack: WebStack, admin: Browser) -> None:
    before = runs_of(stack)
    for token in (None, "forged.0000"):
        data = {"seed": "1", "idempotency_key": str(uuid.uuid4())}
        if token:
            data["csrf"] = token
        assert admin.http.post("/admin/assignment-runs", data=data).status_code == 403
    for seed in ("abc", "-1", "2147483648", "1e3", "１２"):
        r = admin.http.post("/admin/assignment-runs", data={
            "csrf": admin.csrf(), "seed": seed, "idempotency_key": str(uuid.uuid4())})
        assert r.status_code == 422 and 'href="#field-seed"' in r.text, seed
    assert runs_of(stack) == before
    key = str(uuid.uuid4())
    first, second = start_run(admin, key, "77"), start_run(admin, key, "77")
    assert first == second
    after = runs_of(stack)
    assert after[0] == first and after[1:] == before
    r = admin.http.get("/admin/assignment-runs", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0]["run_id"] == first and rows[0]["seed"] == "77"


def test_an_override_made_on_the_pages_survives_the_next_run(
        stack: WebStack, admin: Browser, waiting: dict[str, Any]) -> None:
    vid = waiting["id"]

    def run_with_voucher() -> str | None:
        run_id = start_run(admin, str(uuid.uuid4()))
        page = admin.http.get(f"/admin/assignment-runs/{run_id}?format=csv")
        return run_id if vid in page.text else None

    run_id = until(run_with_voucher)
    assert run_id, "matching did not see the voucher's deadline pass"
    page = admin.http.get(f"/admin/assignment-runs/{run_id}", params={"limit": 200})
    assert page.status_code == 200
    assert 'class="bar-chart"' in page.text and "<caption" in page.text
    form_path = f"/admin/assignment-runs/{run_id}/override"
    r = admin.http.get(form_path, params={"voucher": vid})
    assert r.status_code == 200, r.text[:500]
    offerings = re.findall(r'name="offering_id" value="([0-9a-f-]{36})"', r.text)
    assert offerings
    key = str(uuid.uuid4())
    # refused at the fields: no offering, no reason; someone else's offering id
    for data, field in (({"offering_id": "", "reason": "by phone"}, "offering_id"),
                        ({"offering_id": offerings[-1], "reason": ""}, "reason"),
                        ({"offering_id": str(uuid.uuid4()), "reason": "by phone"},
                         "offering_id")):
        r = admin.http.post(form_path, data={"csrf": admin.csrf(), "voucher_id": vid,
                                             "idempotency_key": key, **data})
        assert r.status_code == 422 and f'href="#field-{field}"' in r.text, (data, r.text[:300])
    assert admin.http.post(form_path, data={"voucher_id": vid, "idempotency_key": key,
                                            "offering_id": offerings[-1],
                                            "reason": "by phone"}).status_code == 403
    for _ in range(2):  # a double submit: one override
        r = admin.http.post(form_path, data={
            "csrf": admin.csrf(), "voucher_id": vid, "idempotency_key": key,
            "offering_id": offerings[-1], "reason": "asked at the service point"})
        assert r.status_code == 303, r.text[:500]
    later = start_run(admin, str(uuid.uuid4()))
    r = admin.http.get(f"/admin/assignment-runs/{later}", params={"format": "csv"})
    row = next(x for x in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
               if x["voucher_id"] == vid)
    assert row["status"] == "fixed" and row["offering_id"] == offerings[-1]
    assert row["override_reason"] == "asked at the service point"
    text = admin.http.get(f"/admin/assignment-runs/{later}", params={"lang": "en"}).text
    assert "set by a region administrator" in text and "asked at the service point" in text


def test_dead_letters_show_no_personal_data(stack: WebStack, admin: Browser) -> None:
    event_id = poison(stack, {"voucher_id": str(uuid.uuid4()), "henkilotunnus": SECRET_HETU})

    def listed() -> str | None:
        r = admin.http.get("/admin/dead-letters", params={"service": "matching"})
        assert r.status_code == 200
        return r.text if event_id in r.text else None

    text = until(listed, 60)
    assert text, "the poison event was not dead-lettered"
    assert SECRET_HETU not in text and "ValidationError" in text
    r = admin.http.get("/admin/dead-letters", params={"service": "matching",
                                                      "cursor": "forged.AAAA"})
    assert r.status_code == 303
    for service in ("registry", "voucher"):
        assert admin.http.get("/admin/dead-letters", params={"service": service}
                              ).status_code == 200
