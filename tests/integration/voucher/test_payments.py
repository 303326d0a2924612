"""Payment batches, and a milestone claimed and approved twice — also after JetStream's
duplicate window has passed — posted once."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta

import nats
import pytest
from sqlalchemy import func, select, update

from kit import broker
from services.voucher.models import LedgerTransfer
from tests.integration.voucher.conftest import Market
from tests.support import eventually

T = LedgerTransfer.__table__


async def started(market: Market, seed: int, value: int = 100_000) -> tuple[str, str]:
    """A voucher (from a budget funded 60/40 by the region and Tampere) chosen and started by a
    fresh provider: (voucher id, provider id)."""
    b = await market.open_budget(("region", 60_000), ("837", 40_000),
                                 service_type="job-search-coaching",
                                 start=date.today().replace(day=1) - timedelta(days=seed))
    v = (await market.issue(b["id"], value=value)).json()
    pid, oid = await market.offering(seed)
    r = await market.client.post(f"/vouchers/{v['id']}/choice", json={"offering_id": oid},
                                 headers=market.citizen())
    assert r.status_code == 200, r.text
    r = await market.client.post(f"/vouchers/{v['id']}/start", json={"evidence": "ok"},
                                 headers=market.staff(pid))
    assert r.status_code == 200, r.text
    return v["id"], pid


async def approve_all(market: Market) -> int:
    submitted = (await market.client.get("/claims?status=submitted",
                                         headers=market.admin())).json()["items"]
    for c in submitted:
        r = await market.client.post(f"/claims/{c['id']}/decision", json={"decision": "approve"},
                                     headers=market.admin())
        assert r.status_code == 200, r.text
    return len(submitted)


async def test_batch_exported_failed_then_paid(market: Market) -> None:
    for seed in (20, 21):
        await started(market, seed)
    assert await approve_all(market) == 2
    admin = market.admin()
    r = await market.client.post("/payments", headers=admin)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["status"] == "exported" and batch["claims"] == 2
    assert batch["total_cents"] == 2 * 30_000
    assert {(line["funder"], line["amount_cents"]) for line in batch["lines"]} == {
        ("region", 18_000), ("837", 12_000)}
    assert (await market.client.post("/payments", headers=admin)).status_code == 409
    r = await market.client.get(f"/payments/{batch['id']}?format=csv", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4 and sum(int(x["amount_cents"]) for x in rows) == 60_000
    assert all(x["business_id"] and x["legal_name"] for x in rows)
    far = market.admin("pohjois-pohjanmaa")
    assert (await market.client.get(f"/payments/{batch['id']}", headers=far)).status_code == 404
    r = await market.client.post(f"/payments/{batch['id']}/failure",
                                 json={"reason": "bank file refused"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "failed"
    assert (await market.client.post(f"/payments/{batch['id']}/confirmation",
                                     headers=admin)).status_code == 409
    r = await market.client.post("/payments", headers=admin)  # the claims wait for this one
    assert r.status_code == 201 and r.json()["claims"] == 2
    second = r.json()["id"]
    r = await market.client.post(f"/payments/{second}/confirmation", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "paid"
    paid = (await market.client.get("/claims?status=paid", headers=admin)).json()["items"]
    assert len(paid) == 2 and {c["payment_batch_id"] for c in paid} == {second}
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo


@pytest.fixture
def short_duplicate_window(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(broker, "DUPLICATE_WINDOW_SECONDS", 1.0)
    return 1.0


async def test_milestone_claimed_and_approved_twice_is_posted_once(
        short_duplicate_window: float, market: Market) -> None:
    vid, pid = await started(market, 22)
    staff, admin = market.staff(pid), market.admin()
    claim = (await market.client.get("/claims", headers=staff)).json()["items"][0]
    decision = {"decision": "approve"}
    answers = await asyncio.gather(*(
        market.client.post(f"/claims/{claim['id']}/decision", json=decision, headers=admin)
        for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409, 409]
    again = await market.client.post(f"/vouchers/{vid}/claims",
                                     json={"milestone": "start", "evidence": "again"},
                                     headers=staff)
    assert again.status_code == 409
    # The relay publishes every event of the voucher once more, after the broker's duplicate
    # window: JetStream takes them as new messages, so only the service's own keys guard money.
    await asyncio.sleep(short_duplicate_window + 0.5)
    async with market.db.session() as s:
        await s.execute(update(market.app.state.runtime.plumbing.outbox).values(published_at=None))
        await s.commit()
    market.app.state.runtime.relay.notify()

    async def approvals_in_stream() -> int:
        nc = await nats.connect(market.registry.nats_url)
        try:
            js = nc.jetstream()
            sub = await js.subscribe("seteli.voucher.v1.claim.approved", ordered_consumer=True)
            count = 0
            while True:
                try:
                    await sub.next_msg(timeout=0.5)
                    count += 1
                except nats.errors.TimeoutError:
                    return count
        finally:
            await nc.close()

    async def duplicated() -> bool:
        return await approvals_in_stream() == 2

    await eventually(duplicated, what="the approval published twice")
    r = await market.client.post(f"/claims/{claim['id']}/decision", json=decision,
                                 headers=admin)
    assert r.status_code == 409
    async with market.db.reader() as s:
        posted = await s.scalar(select(func.count()).select_from(T).where(
            T.c.reference == f"claim:{claim['id']}", T.c.phase == "post"))
        claims_posted = await s.scalar(select(func.count()).select_from(T).where(
            T.c.voucher_id == vid, T.c.kind == "claim", T.c.phase == "post"))
    assert posted == claims_posted == 2  # one posting, split over the voucher's two funders
