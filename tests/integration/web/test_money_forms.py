"""The region admin's forms that move money or end a voucher — topping up and closing a budget,
cancelling a voucher, transferring a started one — as a careless or hostile client meets them:
no CSRF token, bad input, someone else's budget or voucher, the same form sent twice. A refusal
is a 4xx page naming the field, never a 500, and changes nothing; a form sent twice has one
effect."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser import api
from tests.integration.web.conftest import Browser
from tests.webstack import WebStack

pytestmark = pytest.mark.e2e
OTHER_REGION = "pohjois-pohjanmaa"


def fresh_budget(actor: api.Actor, service_type: str, funders: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """A new budget of its own (a start day no other test uses)."""
    start = date(2020, 1, 1) + timedelta(days=uuid.uuid4().int % 2000)
    return dict(actor.until_ok("POST", "/budgets", {
        "service_type": service_type, "period_start": start.isoformat(),
        "period_end": (date.today() + timedelta(days=365)).isoformat(), "funders": funders}))


def funded(actor: api.Actor, budget_id: str) -> dict[str, int]:
    b = actor.ok("GET", f"/budgets/{budget_id}")
    return {f["funder"]: f["funded_cents"] for f in b["funders"]}


def test_top_up_and_close_a_budget(stack: WebStack, admin: Browser) -> None:
    region_admin = api.admin(stack)
    b = fresh_budget(region_admin, "recruitment-help",
                     [{"funder": "region", "amount_cents": 500_000}])
    path = f"/admin/budgets/{b['id']}"
    page = admin.http.get(path)
    assert page.status_code == 200
    for field in ("topup_funder", "topup_amount", "topup_reason", "close_reason",
                  "close_confirm"):
        assert f'id="field-{field}"' in page.text, field

    def top_up(key: str, **fields: str) -> Any:
        return admin.http.post(path + "/top-ups", data={
            "csrf": admin.csrf(), "idempotency_key": key, **fields})

    good = {"topup_funder": "837", "topup_amount": "1 000,50", "topup_reason": "Lisärahoitus"}
    # no CSRF token, or a forged one: refused before anything else
    for token in (None, "forged.0000"):
        data = {**good, "idempotency_key": str(uuid.uuid4())}
        if token:
            data["csrf"] = token
        assert admin.http.post(path + "/top-ups", data=data).status_code == 403
    # bad input, each named at its field (the API's own limits too)
    for fields, named in (
            ({**good, "topup_amount": "12,345"}, "topup_amount"),
            ({**good, "topup_amount": "-5"}, "topup_amount"),
            ({**good, "topup_amount": "1000000000"}, "topup_amount"),  # 10 digits of euros
            ({**good, "topup_funder": ""}, "topup_funder"),
            ({**good, "topup_funder": "../region"}, "topup_funder"),
            ({**good, "topup_reason": " "}, "topup_reason"),
            ({**good, "topup_reason": "a\x00b\x07c"}, "topup_reason")):
        r = top_up(str(uuid.uuid4()), **fields)
        assert r.status_code == 422, (fields, r.status_code)
        assert f'href="#field-{named}"' in r.text, (fields, r.text[:400])
    assert funded(region_admin, b["id"]) == {"region": 500_000}
    # someone else's budget is no budget at all
    theirs = fresh_budget(api.admin(stack, OTHER_REGION), "recruitment-help",
                          [{"funder": "region", "amount_cents": 100_000}])
    r = admin.http.post(f"/admin/budgets/{theirs['id']}/top-ups", data={
        "csrf": admin.csrf(), "idempotency_key": str(uuid.uuid4()), **good})
    assert r.status_code == 404
    for bad in (str(uuid.uuid4()), "not-a-budget"):
        assert top_up_status(admin, bad, good) == 404, bad
    assert funded(api.admin(stack, OTHER_REGION), theirs["id"]) == {"region": 100_000}
    # the same form sent twice: one top-up
    key = str(uuid.uuid4())
    for _ in range(2):
        r = top_up(key, **good)
        assert r.status_code == 303 and "done=topped_up" in r.headers["location"]
    assert funded(region_admin, b["id"]) == {"region": 500_000, "837": 100_050}
    notice = admin.http.get(r.headers["location"])
    assert notice.status_code == 200 and 'class="notice' in notice.text

    # closing needs the confirmation and a reason
    key = str(uuid.uuid4())
    r = admin.http.post(path + "/closure", data={
        "csrf": admin.csrf(), "idempotency_key": key, "close_reason": "Kausi päättyi"})
    assert r.status_code == 422 and 'href="#field-close_confirm"' in r.text
    r = admin.http.post(path + "/closure", data={
        "csrf": admin.csrf(), "idempotency_key": str(uuid.uuid4()), "close_confirm": "1"})
    assert r.status_code == 422 and 'href="#field-close_reason"' in r.text
    assert region_admin.ok("GET", f"/budgets/{b['id']}")["status"] == "open"
    r = admin.http.post(f"/admin/budgets/{theirs['id']}/closure", data={
        "csrf": admin.csrf(), "idempotency_key": str(uuid.uuid4()), "close_confirm": "1",
        "close_reason": "Ei meidän"})
    assert r.status_code == 404
    key, seen = str(uuid.uuid4()), []
    for _ in range(2):
        r = admin.http.post(path + "/closure", data={
            "csrf": admin.csrf(), "idempotency_key": key, "close_confirm": "1",
            "close_reason": "Kausi päättyi"})
        assert r.status_code == 303 and "done=closed" in r.headers["location"]
        seen.append(region_admin.ok("GET", f"/budgets/{b['id']}"))
    closed = seen[0]
    assert closed["status"] == "closed" and seen[1] == closed
    assert all(f["available_cents"] == 0 for f in closed["funders"])
    page = admin.http.get(path, params={"lang": "sv"})
    assert page.status_code == 200 and 'id="field-topup_amount"' not in page.text
    # a closed budget takes no more money: the API's refusal, on the page
    r = top_up(str(uuid.uuid4()), **good)
    assert r.status_code == 422 and 'id="error-summary"' in r.text
    assert api.admin(stack, OTHER_REGION).ok("GET", f"/budgets/{theirs['id']}")[
        "status"] == "open"


def top_up_status(admin: Browser, budget_id: str, good: dict[str, str]) -> int:
    return admin.http.post(f"/admin/budgets/{budget_id}/top-ups", data={
        "csrf": admin.csrf(), "idempotency_key": str(uuid.uuid4()), **good}).status_code


def started_voucher(stack: WebStack, budget_id: str, hetu: str) -> tuple[dict[str, Any], str]:
    """A voucher chosen (on the holder's behalf) and started by its provider; returns it and
    an offering of another provider it can move to."""
    region_admin = api.admin(stack)
    v = api.issue(region_admin, budget_id, hetu=hetu)
    offerings = api.offerings(stack, "pirkanmaa", "career-guidance")
    first = offerings[0]
    other = next(o for o in offerings if o["provider_id"] != first["provider_id"])
    region_admin.until_ok("POST", f"/vouchers/{v['id']}/choice",
                          {"offering_id": first["id"], "reason": "puhelimessa"})
    api.staff(stack, first["provider_id"]).ok("POST", f"/vouchers/{v['id']}/start",
                                              {"evidence": "ensimmäinen tapaaminen"})
    return region_admin.ok("GET", f"/vouchers/{v['id']}"), other["id"]


def test_cancel_and_transfer_a_voucher(stack: WebStack, admin: Browser) -> None:
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    v, other = started_voucher(stack, budget["id"], "131052-308T")
    path = f"/admin/vouchers/{v['id']}"
    page = admin.http.get(path)
    assert page.status_code == 200
    for field in ("transfer_offering", "transfer_reason", "cancel_code", "cancel_reason"):
        assert f'id="field-{field}"' in page.text, field
    assert 'id="field-offering_id"' not in page.text  # a started voucher is not chosen again

    def post(action: str, key: str, **fields: str) -> Any:
        return admin.http.post(f"{path}/{action}", data={
            "csrf": admin.csrf(), "idempotency_key": key, **fields})

    assert admin.http.post(path + "/transfer", data={
        "transfer_offering": other, "transfer_reason": "siirto",
        "idempotency_key": str(uuid.uuid4())}).status_code == 403
    for fields, named in (
            ({"transfer_offering": "", "transfer_reason": "siirto"}, "transfer_offering"),
            ({"transfer_offering": other, "transfer_reason": ""}, "transfer_reason"),
            ({"transfer_offering": "not-an-id", "transfer_reason": "siirto"}, None),
            ({"transfer_offering": str(uuid.uuid4()), "transfer_reason": "siirto"}, None),
            ({"transfer_offering": v["offering_id"], "transfer_reason": "siirto"}, None)):
        r = post("transfer", str(uuid.uuid4()), **fields)
        assert r.status_code == 422, (fields, r.status_code)
        assert (f'href="#field-{named}"' if named else 'id="error-summary"') in r.text, fields
    assert region_admin.ok("GET", path.removeprefix("/admin"))["version"] == v["version"]
    key, seen = str(uuid.uuid4()), []
    for _ in range(2):
        r = post("transfer", key, transfer_offering=other, transfer_reason="Tuottaja lopetti")
        assert r.status_code == 303 and "done=transferred" in r.headers["location"]
        seen.append(region_admin.ok("GET", path.removeprefix("/admin")))
    moved = seen[0]
    assert moved["offering_id"] == other and moved["state"] == "started"
    assert seen[1] == moved  # the second submission changed nothing

    for fields, named in (
            ({"cancel_code": "", "cancel_reason": "pyysi"}, "cancel_code"),
            ({"cancel_code": "because", "cancel_reason": "pyysi"}, "cancel_code"),
            ({"cancel_code": "holder_request", "cancel_reason": "x"}, "cancel_reason")):
        r = post("cancellation", str(uuid.uuid4()), **fields)
        assert r.status_code == 422 and f'href="#field-{named}"' in r.text, fields
    # someone else's voucher: not found, and not cancelled
    theirs_budget = fresh_budget(api.admin(stack, OTHER_REGION), "career-guidance",
                                 [{"funder": "region", "amount_cents": 200_000}])
    theirs = api.issue(api.admin(stack, OTHER_REGION), theirs_budget["id"])
    r = admin.http.post(f"/admin/vouchers/{theirs['id']}/cancellation", data={
        "csrf": admin.csrf(), "idempotency_key": str(uuid.uuid4()),
        "cancel_code": "holder_request", "cancel_reason": "pyysi"})
    assert r.status_code == 404
    assert api.admin(stack, OTHER_REGION).ok("GET", f"/vouchers/{theirs['id']}")[
        "state"] == "issued"
    key, seen = str(uuid.uuid4()), []
    for _ in range(2):
        r = post("cancellation", key, cancel_code="holder_request",
                 cancel_reason="Haltija pyysi puhelimessa")
        assert r.status_code == 303 and "done=cancelled" in r.headers["location"]
        seen.append(region_admin.ok("GET", path.removeprefix("/admin")))
    assert seen[0]["state"] == "cancelled" and seen[1] == seen[0]
    page = admin.http.get(r.headers["location"])
    assert page.status_code == 200 and 'id="field-cancel_code"' not in page.text
    # cancelling again with a new form: the API's refusal, on the page
    r = post("cancellation", str(uuid.uuid4()), cancel_code="other", cancel_reason="uudelleen")
    assert r.status_code == 422 and 'id="error-summary"' in r.text
