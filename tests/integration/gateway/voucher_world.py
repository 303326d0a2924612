"""Voucher objects for the BOLA matrix, made through the gateway as their owners would: a
budget of Pirkanmaa, a voucher of the test person 010280-952L chosen and started at provider
B (so there is a claim), and a payment batch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from tests.integration.gateway.conftest import Gateway
from tests.integration.registry.conftest import offering_body

HOLDER = "010280-952L"


@dataclass
class VoucherWorld:
    budget: str
    voucher: str
    offering: str
    other_offering: str
    claim: str
    batch: str


async def _until(call: Callable[[], Any], status: int, what: str) -> httpx.Response:
    """Retry ``call`` (events have to reach the voucher service first); bounded in time."""
    r: httpx.Response | None = None
    for _ in range(150):
        r = await call()
        if r.status_code == status:
            return r
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: {r.status_code if r else None} {r.text if r else ''}")


async def voucher_world(gw: Gateway, provider: str, seed: int) -> VoucherWorld:
    admin, staff, holder = await gw.admin(), await gw.staff(provider), await gw.citizen(HOLDER)
    start = date.today().replace(day=1) - timedelta(days=seed)
    budget = (await _until(lambda: gw.client.post("/api/v1/budgets", headers=admin, json={
        "service_type": "job-search-coaching", "period_start": start.isoformat(),
        "period_end": (date.today() + timedelta(days=400)).isoformat(),
        "funders": [{"funder": "region", "amount_cents": 10_000_000}]}), 201,
        "budget")).json()["id"]
    voucher = (await gw.client.post("/api/v1/vouchers", headers=admin, json={
        "budget_id": budget, "holder": {"kind": "person", "henkilotunnus": HOLDER},
        "value_cents": 100_000})).json()["id"]
    offerings = [(await gw.client.post("/api/v1/offerings", json=offering_body(),
                                       headers=staff)).json()["id"] for _ in range(2)]
    await _until(lambda: gw.client.post(f"/api/v1/vouchers/{voucher}/choice", headers=holder,
                                        json={"offering_id": offerings[0]}), 200, "choice")
    await _until(lambda: gw.client.post(f"/api/v1/vouchers/{voucher}/start", headers=staff,
                                        json={"evidence": "started"}), 200, "start")
    claims = (await gw.client.get("/api/v1/claims", headers=staff)).json()["items"]
    claim = next(c["id"] for c in claims if c["voucher_id"] == voucher)
    await gw.client.post(f"/api/v1/claims/{claim}/decision", headers=admin,
                         json={"decision": "approve"})
    r = await gw.client.post("/api/v1/payments", headers=admin)
    batch = r.json()["id"] if r.status_code == 201 else (await gw.client.get(
        "/api/v1/payments", headers=admin)).json()["items"][-1]["id"]
    return VoucherWorld(budget, voucher, offerings[0], offerings[1], claim, batch)


Ids = dict[str, str]
V = "/api/v1/vouchers/{voucher_id}"
OBJECTS: dict[str, Callable[[VoucherWorld], tuple[Ids, dict[str, Any] | None]]] = {
    "/api/v1/budgets/{budget_id}": lambda w: ({"budget_id": w.budget}, None),
    "/api/v1/budgets/{budget_id}/top-ups": lambda w: (
        {"budget_id": w.budget}, {"funder": "region", "amount_cents": 1, "reason": "more"}),
    "/api/v1/budgets/{budget_id}/closure": lambda w: ({"budget_id": w.budget},
                                                      {"reason": "over"}),
    V: lambda w: ({"voucher_id": w.voucher}, None),
    V + "/choices": lambda w: ({"voucher_id": w.voucher}, None),
    V + "/choice": lambda w: ({"voucher_id": w.voucher}, {"offering_id": w.other_offering}),
    V + "/start": lambda w: ({"voucher_id": w.voucher}, {"evidence": "x"}),
    V + "/milestones": lambda w: ({"voucher_id": w.voucher},
                                  {"milestone": "outcome", "evidence": "x",
                                   "outcome": "employed"}),
    V + "/completion": lambda w: ({"voucher_id": w.voucher}, {"evidence": "x"}),
    V + "/claims": lambda w: ({"voucher_id": w.voucher}, {"milestone": "start",
                                                          "evidence": "x"}),
    V + "/declination": lambda w: ({"voucher_id": w.voucher}, {"reason_code": "no_capacity"}),
    V + "/cancellation": lambda w: ({"voucher_id": w.voucher},
                                    {"reason_code": "holder_request", "reason": "asked"}),
    V + "/transfer": lambda w: ({"voucher_id": w.voucher},
                                {"offering_id": w.other_offering, "reason": "moved"}),
    V + "/rating": lambda w: ({"voucher_id": w.voucher}, {"stars": 1}),
    "/api/v1/claims/{claim_id}": lambda w: ({"claim_id": w.claim}, None),
    "/api/v1/claims/{claim_id}/decision": lambda w: ({"claim_id": w.claim},
                                                     {"decision": "approve"}),
    "/api/v1/payments/{batch_id}": lambda w: ({"batch_id": w.batch}, None),
    "/api/v1/payments/{batch_id}/confirmation": lambda w: ({"batch_id": w.batch}, None),
    "/api/v1/payments/{batch_id}/failure": lambda w: ({"batch_id": w.batch},
                                                      {"reason": "bank refused"}),
}
