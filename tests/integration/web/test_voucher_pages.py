"""The voucher, claim, budget and report pages as a hostile or careless client meets them:
someone else's voucher, the wrong role, missing CSRF tokens, forged ids, unreadable files and
dates. A refusal is a 4xx page in the page's language, never a 500, and writes nothing."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from tests.browser import api
from tests.integration.web.conftest import Browser
from tests.webstack import WebStack

pytestmark = pytest.mark.e2e
MATTI = "081181-9984"


@pytest.fixture(scope="module")
def voucher(stack: WebStack) -> dict[str, Any]:
    """A voucher of the demo citizen Maija, not chosen yet."""
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    return api.issue(region_admin, budget["id"])


def test_a_voucher_is_its_holders_only(stack: WebStack, voucher: dict[str, Any],
                                       maija: Browser, matti: Browser) -> None:
    vid = voucher["id"]
    for path in (f"/vouchers/{vid}", f"/vouchers/{vid}/compare"):
        assert maija.http.get(path).status_code == 200
        r = matti.http.get(path, params={"lang": "sv"})
        assert r.status_code == 404 and '<html lang="sv">' in r.text
        assert voucher["code"] not in r.text
    assert voucher["code"] not in matti.http.get("/vouchers").text
    for path in (f"/vouchers/{uuid.uuid4()}", "/vouchers/..%2f..%2fbudgets"):
        assert maija.http.get(path).status_code == 404
    # staff of a provider the voucher did not choose, and an admin page for a citizen
    polku = stack.provider_named("Polku Valmennus Oy")
    staff = Browser(stack.url)
    staff.sign_in(provider_id=polku["id"])
    assert staff.http.get(f"/staff/vouchers/{vid}").status_code == 404
    staff.close()
    assert maija.http.get("/admin/budgets").status_code == 403
    assert maija.http.get("/staff/claims").status_code == 403
    anonymous = httpx.get(stack.url + "/vouchers", timeout=15)
    assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["location"]


def test_choice_needs_csrf_and_a_real_offering(stack: WebStack, voucher: dict[str, Any],
                                               maija: Browser) -> None:
    vid = voucher["id"]
    offering = api.offerings(stack, "pirkanmaa", "career-guidance")[0]
    path = f"/vouchers/{vid}/choice"
    for token in (None, "forged.0000"):
        data = {"offering_id": offering["id"], "idempotency_key": str(uuid.uuid4())}
        if token:
            data["csrf"] = token
        assert maija.http.post(path, data=data).status_code == 403
    other = api.offerings(stack, "pirkanmaa", "job-search-coaching")[0]  # another service
    for wrong in (other["id"], str(uuid.uuid4()), "not-an-id", ""):
        r = maija.http.post(path, data={"csrf": maija.csrf(), "offering_id": wrong,
                                         "idempotency_key": str(uuid.uuid4())})
        assert r.status_code in (409, 422), (wrong, r.status_code)
        assert 'id="error-summary"' in r.text
    fresh = api.admin(stack).ok("GET", f"/vouchers/{vid}")
    assert fresh["state"] == "issued" and fresh["offering_id"] is None
    # rating a voucher that is not completed, or with stars out of range: refused at the form
    for stars in ("9", "", "4"):
        r = maija.http.post(f"/vouchers/{vid}/rating", data={
            "csrf": maija.csrf(), "stars": stars, "idempotency_key": str(uuid.uuid4())})
        assert r.status_code == 422 and 'id="error-summary"' in r.text


def test_admin_forms_refuse_bad_input_at_the_field(stack: WebStack, admin: Browser) -> None:
    budget = api.budget(api.admin(stack), "career-guidance")
    path = f"/admin/budgets/{budget['id']}"
    before = api.admin(stack).ok("GET", "/budgets/" + budget["id"])
    # a file that is not UTF-8, an empty one, and none at all
    for files in ({"file": ("v.csv", "henkilotunnus\n\xe4".encode("latin-1"), "text/csv")},
                  {"file": ("v.csv", b"", "text/csv")}, None):
        r = admin.http.post(path + "/bulk-issuance", files=files,
                            data={"csrf": admin.csrf(), "idempotency_key": str(uuid.uuid4())})
        assert r.status_code == 422, r.text[:300]
        assert 'href="#field-file"' in r.text
    # one voucher: a bad identity code and value, named at their fields, the code not echoed
    r = admin.http.post(path + "/vouchers", data={
        "csrf": admin.csrf(), "holder_kind": "person", "henkilotunnus": "010101-0000",
        "value": "12,345", "idempotency_key": str(uuid.uuid4())})
    assert r.status_code == 422 and 'href="#field-value"' in r.text
    r = admin.http.post(path + "/vouchers", data={
        "csrf": admin.csrf(), "holder_kind": "person", "henkilotunnus": "010101-0000",
        "value": "100", "idempotency_key": str(uuid.uuid4())})
    assert r.status_code == 422 and 'href="#field-henkilotunnus"' in r.text
    assert "010101-0000" not in r.text
    after = api.admin(stack).ok("GET", "/budgets/" + budget["id"])
    assert after["funders"] == before["funders"]  # nothing was issued
    # the usage as CSV: one row per funder, the same cents as the API
    r = admin.http.get(path, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {(x["funder"], int(x["available_cents"])) for x in rows} == {
        (f["funder"], f["available_cents"]) for f in after["funders"]}
    # a budget: the period the wrong way round is the API's refusal, on the form
    r = admin.http.post("/admin/budgets/new", data={
        "csrf": admin.csrf(), "service_type": "recruitment-help", "period_start": "2026-12-31",
        "period_end": "2026-01-01", "funder0": "region", "amount0": "1000",
        "idempotency_key": str(uuid.uuid4())})
    assert r.status_code == 422 and 'id="error-summary"' in r.text
    # reports: a date that is no date, a dimension that is not one
    r = admin.http.get("/admin/reports", params={"from": "31.2.2026", "by": "nope"})
    assert r.status_code == 422 and 'href="#field-from"' in r.text
    r = admin.http.get("/admin/reports", params={"from": "2026-03-01", "to": "2026-01-01"})
    assert r.status_code == 422
    # claims, payments and the chain: forged ids and cursors are 4xx pages
    for bad in (f"/admin/claims/{uuid.uuid4()}", f"/admin/payments/{uuid.uuid4()}",
                f"/admin/budgets/{uuid.uuid4()}"):
        assert admin.http.get(bad).status_code == 404, bad
    for bad in ("/admin/claims?cursor=forged", "/admin/payments?cursor=forged",
                "/admin/audit-chain?cursor=forged"):
        assert admin.http.get(bad).status_code in (200, 303), bad
    r = admin.http.post(f"/admin/payments/{uuid.uuid4()}/bogus",
                        data={"csrf": admin.csrf()})
    assert r.status_code == 404
