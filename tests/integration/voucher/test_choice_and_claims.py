"""Choice of provider, the provider's side, claims and their decisions, through the API."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from services.voucher.models import LedgerTransfer, OfferingPlace, OfferingView
from tests.integration.registry.conftest import offering_body
from tests.integration.voucher.conftest import HETU, OTHER_HETU, Market
from tests.support import eventually

T = LedgerTransfer.__table__


async def issued(market: Market, hetu: str = HETU, value: int = 150_000) -> dict[str, Any]:
    b = await market.open_budget(("region", 10_000_000))
    r = await market.issue(b["id"], hetu=hetu, value=value)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def taken(market: Market, offering_id: str) -> int:
    async with market.db.reader() as s:
        return int(await s.scalar(select(OfferingPlace.taken).where(
            OfferingPlace.offering_id == offering_id)) or 0)


async def test_choice_rules_change_and_history(market: Market) -> None:
    v = await issued(market)
    pid, oid = await market.offering(1, unit_price_cents=160_000)
    pid2, oid2 = await market.offering(2)
    _, elsewhere = await market.offering(3, region="pohjois-pohjanmaa",
                                         municipalities=["564"])
    url = f"/vouchers/{v['id']}/choice"
    me = market.citizen(HETU)
    r = await market.client.post(url, json={"offering_id": elsewhere}, headers=me)
    assert r.status_code == 409 and "region" in r.json()["detail"]
    r = await market.client.post(url, json={"offering_id": "0" * 8 + "-0000-7000-8000-" + "0" * 12},
                                 headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "offering_id"
    r = await market.client.post(url, json={"offering_id": oid}, headers=market.citizen(OTHER_HETU))
    assert r.status_code == 404
    r = await market.client.post(url, json={"offering_id": oid}, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "chosen" and r.json()["provider_id"] == pid
    assert r.json()["co_payment_cents"] == 10_000
    assert await taken(market, oid) == 1
    r = await market.client.post(url, json={"offering_id": oid2}, headers=market.admin())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await market.client.post(url, json={"offering_id": oid2, "reason": "asked by phone"},
                                 headers=market.admin())
    assert r.status_code == 200 and r.json()["chosen_by"] == "admin_on_behalf"
    assert (await taken(market, oid), await taken(market, oid2)) == (0, 1)
    history = (await market.client.get(f"/vouchers/{v['id']}/choices", headers=me)).json()
    assert [(c["offering_id"], c["chosen_by"], c["ended_at"] is None) for c in history] == [
        (oid, "holder", False), (oid2, "admin_on_behalf", True)]
    # the provider sees the voucher that chose it, without the holder's details
    seen = await market.client.get(f"/vouchers/{v['id']}", headers=market.staff(pid2))
    assert seen.status_code == 200 and seen.json()["code"] is None
    assert seen.json()["profile"] is None
    assert (await market.client.get(f"/vouchers/{v['id']}",
                                    headers=market.staff(pid))).status_code == 404
    # a withdrawn offering cannot be chosen
    r = await market.registry.client.post(f"/offerings/{oid}/withdrawal",
                                          headers=market.registry.staff(pid))
    assert r.status_code == 200, r.text

    async def withdrawn() -> bool:
        async with market.db.reader() as s:
            view = await s.get(OfferingView, oid)
        return view is not None and view.status == "withdrawn"

    await eventually(withdrawn, what="withdrawal reaches the voucher service")
    r = await market.client.post(url, json={"offering_id": oid}, headers=me)
    assert r.status_code == 409 and "withdrawn" in r.json()["detail"]


async def test_50_concurrent_choices_of_the_last_place(market: Market) -> None:
    b = await market.open_budget(("region", 10_000_000))
    vouchers = []
    for _ in range(50):
        r = await market.issue(b["id"])
        vouchers.append(r.json()["id"])
    _, oid = await market.offering(4, capacity=1)
    me = market.citizen(HETU)
    answers = await asyncio.gather(*(
        market.client.post(f"/vouchers/{v}/choice", json={"offering_id": oid}, headers=me)
        for v in vouchers))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 1 and statuses.count(409) == 49, statuses
    assert all(r.json()["type"] == "/problems/no-open-place"
               for r in answers if r.status_code == 409)
    assert await taken(market, oid) == 1


async def test_an_offering_taking_no_new_customers_cannot_be_chosen(market: Market) -> None:
    """The registry says the provider takes no new customers for the offering: a choice is
    refused (409, nothing taken); once it says yes again, the same choice goes through."""
    v = await issued(market)
    pid, oid = await market.offering(6, accepting_new_customers=False)
    url, me = f"/vouchers/{v['id']}/choice", market.citizen(HETU)
    r = await market.client.post(url, json={"offering_id": oid}, headers=me)
    assert r.status_code == 409, r.text
    assert r.json()["type"] == "/problems/offering-not-choosable"
    assert "new customers" in r.json()["detail"]
    assert await taken(market, oid) == 0
    r = await market.client.get(f"/vouchers/{v['id']}", headers=me)
    assert r.json()["state"] == "issued" and r.json()["offering_id"] is None

    reg = market.registry
    r = await reg.client.put(f"/offerings/{oid}",
                             json=offering_body(capacity=12, accepting_new_customers=True),
                             headers=reg.staff(pid) | {"If-Match": "1"})
    assert r.status_code == 200, r.text

    async def accepting() -> bool:
        async with market.db.reader() as s:
            view = await s.get(OfferingView, oid)
        return view is not None and view.accepting_new_customers is True

    await eventually(accepting, what="the change reaches the voucher service")
    r = await market.client.post(url, json={"offering_id": oid}, headers=me)
    assert r.status_code == 200, r.text
    assert await taken(market, oid) == 1


async def test_provider_journey_claims_and_decisions(market: Market) -> None:
    v = await issued(market, value=100_000)
    pid, oid = await market.offering(5)
    me, staff, admin = market.citizen(HETU), market.staff(pid), market.admin()
    vid = v["id"]
    assert (await market.client.post(f"/vouchers/{vid}/choice", json={"offering_id": oid},
                                     headers=me)).status_code == 200
    assert (await market.client.post(f"/vouchers/{vid}/start", json={},
                                     headers=me)).status_code == 403
    r = await market.client.post(f"/vouchers/{vid}/start", json={"evidence": "started 1.12."},
                                 headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "started", r.text
    claims = (await market.client.get("/claims", headers=staff)).json()["items"]
    assert [(c["milestone"], c["amount_cents"], c["status"]) for c in claims] == [
        ("start", 30_000, "submitted")]
    start_claim = claims[0]["id"]
    r = await market.client.post(f"/claims/{start_claim}/decision",
                                 json={"decision": "reject"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason_code"
    r = await market.client.post(f"/claims/{start_claim}/decision",
                                 json={"decision": "reject", "reason_code": "evidence_missing",
                                       "reason": "attendance list missing"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    seen = (await market.client.get(f"/claims/{start_claim}", headers=staff)).json()
    assert seen["reason_code"] == "evidence_missing" and seen["reason_explained"]["fi"]
    r = await market.client.post(f"/vouchers/{vid}/claims",
                                 json={"milestone": "start", "evidence": "list attached"},
                                 headers=staff)
    assert r.status_code == 200, r.text
    again = (await market.client.get("/claims?status=submitted", headers=admin)).json()["items"]
    assert len(again) == 1
    ok = await market.client.post(f"/claims/{again[0]['id']}/decision",
                                  json={"decision": "approve"}, headers=admin)
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    r = await market.client.post(f"/vouchers/{vid}/completion", json={"evidence": "done"},
                                 headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "completed"
    r = await market.client.post(f"/vouchers/{vid}/milestones",
                                 json={"milestone": "outcome", "evidence": "contract",
                                       "outcome": "employed"}, headers=staff)
    assert r.status_code == 200, r.text
    for c in (await market.client.get("/claims?status=submitted", headers=admin)).json()["items"]:
        r = await market.client.post(f"/claims/{c['id']}/decision", json={"decision": "approve"},
                                     headers=admin)
        assert r.status_code == 200
    v = (await market.client.get(f"/vouchers/{vid}", headers=me)).json()
    assert v["outcome"] == "employed" and v["paid_cents"] == 100_000
    async with market.db.reader() as s:
        posted = await s.scalar(select(func.count()).select_from(T).where(
            T.c.kind == "claim", T.c.phase == "post"))
    assert posted == 3
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo


async def test_decline_releases_and_the_holder_chooses_again(market: Market) -> None:
    v = await issued(market)
    pid, oid = await market.offering(6, capacity=1)
    me = market.citizen(HETU)
    await market.client.post(f"/vouchers/{v['id']}/choice", json={"offering_id": oid}, headers=me)
    r = await market.client.post(f"/vouchers/{v['id']}/declination",
                                 json={"reason_code": "no_capacity"}, headers=market.staff(pid))
    assert r.status_code == 200 and r.json()["state"] == "issued"
    assert r.json()["provider_id"] is None
    assert await taken(market, oid) == 0
    r = await market.client.post(f"/vouchers/{v['id']}/choice", json={"offering_id": oid},
                                 headers=me)
    assert r.status_code == 200
