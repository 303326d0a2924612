"""The end of a voucher's life and its turns: cancellation, expiry, the outcome deadline, the
registry taking a provider away, transfer, rating; reports from the transfers; the audit chain."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from services.voucher.models import Voucher
from services.voucher.use_cases.lifecycle import run_deadlines
from tests.integration.voucher.conftest import HETU, OTHER_HETU, Market
from tests.support import eventually


async def chosen(market: Market, budget: str, oid: str, hetu: str = HETU,
                 value: int = 100_000) -> str:
    v = (await market.issue(budget, hetu=hetu, value=value)).json()
    r = await market.client.post(f"/vouchers/{v['id']}/choice", json={"offering_id": oid},
                                 headers=market.citizen(hetu))
    assert r.status_code == 200, r.text
    return str(v["id"])


async def available(market: Market, budget: str) -> int:
    b = (await market.client.get(f"/budgets/{budget}", headers=market.admin())).json()
    return sum(f["available_cents"] for f in b["funders"])


async def voucher(market: Market, vid: str) -> dict[str, Any]:
    body: dict[str, Any] = (await market.client.get(f"/vouchers/{vid}",
                                                    headers=market.admin())).json()
    return body


async def test_cancel_expire_and_outcome_deadline_give_money_back(market: Market) -> None:
    b = (await market.open_budget(("region", 1_000_000)))["id"]
    pid, oid = await market.offering(30)
    cancelled = await chosen(market, b, oid)
    r = await market.client.post(f"/vouchers/{cancelled}/cancellation", headers=market.admin(),
                                 json={"reason_code": "holder_request", "reason": "moved away"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    assert await available(market, b) == 1_000_000
    started = await chosen(market, b, oid)
    await market.client.post(f"/vouchers/{started}/start", json={}, headers=market.staff(pid))
    r = await market.client.post(f"/vouchers/{started}/cancellation", headers=market.admin(),
                                 json={"reason_code": "service_interrupted", "reason": "ill"})
    assert r.status_code == 200 and r.json()["outcome"] == "not_achieved"
    # the start claim (30 000) is still pending: only the rest came back
    assert await available(market, b) == 1_000_000 - 30_000
    claim = (await market.client.get("/claims?status=submitted",
                                     headers=market.admin())).json()["items"][0]
    await market.client.post(f"/claims/{claim['id']}/decision", headers=market.admin(),
                             json={"decision": "reject", "reason_code": "holder_not_served"})
    assert await available(market, b) == 1_000_000
    expiring = await chosen(market, b, oid)
    due = await chosen(market, b, oid, hetu=OTHER_HETU)
    await market.client.post(f"/vouchers/{due}/start", json={}, headers=market.staff(pid))
    async with market.db.session() as s:
        await s.execute(update(Voucher).where(Voucher.id == expiring)
                        .values(valid_until=date.today() - timedelta(days=2)))
        await s.execute(update(Voucher).where(Voucher.id == due)
                        .values(outcome_deadline=date.today() - timedelta(days=2)))
        await s.commit()
    assert await run_deadlines(market.db) == {"expired": 1, "outcomes": 1}
    assert await run_deadlines(market.db) == {"expired": 0, "outcomes": 0}
    assert (await voucher(market, expiring))["state"] == "expired"
    assert (await voucher(market, due))["outcome"] == "not_achieved"
    assert await available(market, b) == 1_000_000 - 30_000  # only due's pending start claim
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo


async def test_suspension_releases_chosen_flags_started_and_transfer(market: Market) -> None:
    b = (await market.open_budget(("region", 1_000_000)))["id"]
    pid, oid = await market.offering(31)
    _, other = await market.offering(32)
    waiting = await chosen(market, b, oid)
    running = await chosen(market, b, oid, hetu=OTHER_HETU)
    await market.client.post(f"/vouchers/{running}/start", json={}, headers=market.staff(pid))
    r = await market.registry.client.post(
        f"/providers/{pid}/accreditations/pirkanmaa/decisions",
        json={"decision": "suspend", "reason": "complaints"}, headers=market.registry.admin())
    assert r.status_code == 200, r.text

    async def released() -> bool:
        return (await voucher(market, waiting))["state"] == "issued"

    await eventually(released, what="the chosen voucher released")
    assert (await voucher(market, running))["flag"] == "provider_suspended"
    assert (await voucher(market, running))["state"] == "started"
    r = await market.client.post(f"/vouchers/{running}/transfer", headers=market.admin(),
                                 json={"offering_id": other, "reason": "provider suspended"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["offering_id"] == other and moved["flag"] is None
    claims = (await market.client.get("/claims", headers=market.staff(pid))).json()["items"]
    assert [c["voucher_id"] for c in claims] == [running]  # the start claim stays with pid
    r = await market.client.post(f"/vouchers/{waiting}/choice", json={"offering_id": oid},
                                 headers=market.citizen(HETU))
    assert r.status_code == 409  # a suspended provider cannot be chosen


async def test_rating_reports_and_the_audit_chain(market: Market) -> None:
    b = (await market.open_budget(("region", 700_000), ("837", 300_000)))["id"]
    pid, oid = await market.offering(33)
    vid = await chosen(market, b, oid)
    staff, admin = market.staff(pid), market.admin()
    await market.client.post(f"/vouchers/{vid}/start", json={}, headers=staff)
    r = await market.client.post(f"/vouchers/{vid}/rating", json={"stars": 5},
                                 headers=market.citizen())
    assert r.status_code == 409  # not completed yet
    await market.client.post(f"/vouchers/{vid}/completion", json={}, headers=staff)
    for c in (await market.client.get("/claims", headers=admin)).json()["items"]:
        await market.client.post(f"/claims/{c['id']}/decision", json={"decision": "approve"},
                                 headers=admin)
    assert (await market.client.post(f"/vouchers/{vid}/rating", json={"stars": 4},
                                     headers=market.citizen(OTHER_HETU))).status_code == 404
    r = await market.client.post(f"/vouchers/{vid}/rating",
                                 json={"stars": 4, "comment": "hyvä"}, headers=market.citizen())
    assert r.status_code == 201 and r.json()["stars"] == 4
    assert (await market.client.post(f"/vouchers/{vid}/rating", json={"stars": 1},
                                     headers=market.citizen())).status_code == 409
    assert (await market.client.post(f"/vouchers/{vid}/rating", json={"stars": 6},
                                     headers=market.citizen())).status_code == 422
    by_funder = (await market.client.get("/reports?by=funder", headers=admin)).json()["rows"]
    assert {r["key"]: r["spent_cents"] for r in by_funder} == {"region": 49_000, "837": 21_000}
    for row in by_funder:
        assert row["funded_cents"] == (row["available_cents"] + row["committed_cents"]
                                       + row["spent_cents"])
    by_type = (await market.client.get("/reports?by=service_type", headers=admin)).json()
    assert by_type["rows"][0]["completed_vouchers"] == 1
    assert by_type["rows"][0]["cost_per_completed_cents"] == 70_000
    by_provider = (await market.client.get("/reports?by=provider&format=csv",
                                           headers=admin)).text
    assert pid in by_provider and "70000" in by_provider
    assert (await market.client.get("/reports?from=2026-02-01&to=2026-01-01",
                                    headers=admin)).status_code == 422
    chain = (await market.client.get("/audit-chain", headers=admin)).json()["items"]
    assert {"budget.opened", "voucher.issued", "claim.approved"} <= {e["action"] for e in chain}
    assert all(e["prev_hash"] == n["hash"] for e, n in itertools.pairwise(chain))
    verified = (await market.client.get("/audit-chain/verification", headers=admin)).json()
    assert verified["valid"] and verified["entries"] == len(chain)
    assert (await market.client.get("/audit-chain", headers=staff)).status_code == 403
