"""Each user group's way through the gateway with the voucher service behind it: a region admin
opens a budget and issues vouchers; the citizen sees their own voucher, chooses a provider and
changes it; the provider starts and claims; the admin approves and exports a payment batch.
Afterwards no log line of any process and no event on any stream holds a henkilötunnus. The
bulk issuance route takes larger request bodies than the others."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from gateway.routing import LARGE_BODIES
from tests.integration.gateway.conftest import Gateway, Stack, gateway_for
from tests.integration.gateway.voucher_world import _until
from tests.integration.registry.conftest import offering_body
from tests.support import application

HOLDER, OTHER = "010280-952L", "081181-9984"
IDENTITY_CODE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b")


async def test_each_user_group_through_the_gateway(gateway: Gateway, stack: Stack) -> None:
    c = gateway.client
    admin, holder, other = (await gateway.admin(), await gateway.citizen(HOLDER),
                            await gateway.citizen(OTHER))
    providers = []
    for seed in (940, 941):  # two approved providers, each with an offering
        pid = (await c.post("/api/v1/providers", json=application(seed))).json()["id"]
        await c.post(f"/api/v1/providers/{pid}/accreditations/pirkanmaa/decisions",
                     headers=admin, json={"decision": "approve", "reason": "criteria met",
                                          "valid_until": (date.today() + timedelta(days=300))
                                          .isoformat()})
        oid = (await c.post("/api/v1/offerings", json=offering_body(),
                            headers=await gateway.staff(pid))).json()["id"]
        providers.append((pid, oid))
    start = date.today().replace(day=1) - timedelta(days=940)
    budget = (await _until(lambda: c.post("/api/v1/budgets", headers=admin, json={
        "service_type": "job-search-coaching", "period_start": start.isoformat(),
        "period_end": (date.today() + timedelta(days=300)).isoformat(),
        "funders": [{"funder": "region", "amount_cents": 800_000},
                    {"funder": "837", "amount_cents": 200_000}]}), 201, "budget")).json()
    r = await c.post("/api/v1/vouchers", headers=admin | {"Idempotency-Key": "journey-1"},
                     json={"budget_id": budget["id"], "value_cents": 120_000,
                           "holder": {"kind": "person", "henkilotunnus": HOLDER},
                           "home_municipality": "837", "languages": ["fi"]})
    assert r.status_code == 201, r.text
    voucher = r.json()
    mine = (await c.get("/api/v1/vouchers", headers=holder)).json()["items"]
    assert [v["id"] for v in mine] == [voucher["id"]] and mine[0]["code"] == voucher["code"]
    assert (await c.get("/api/v1/vouchers", headers=other)).json()["items"] == []
    url = f"/api/v1/vouchers/{voucher['id']}"
    await _until(lambda: c.post(url + "/choice", headers=holder,
                                json={"offering_id": providers[0][1]}), 200, "choice")
    await _until(lambda: c.post(url + "/choice", headers=holder,
                                json={"offering_id": providers[1][1]}), 200, "change")
    staff = await gateway.staff(providers[1][0])
    r = await c.post(url + "/start", headers=staff, json={"evidence": "first meeting held"})
    assert r.status_code == 200 and r.json()["state"] == "started", r.text
    assert r.json()["code"] is None and r.json()["profile"] is None
    claim = (await c.get("/api/v1/claims", headers=staff)).json()["items"][0]
    assert (claim["milestone"], claim["amount_cents"]) == ("start", 36_000)
    r = await c.post(f"/api/v1/claims/{claim['id']}/decision", headers=admin,
                     json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = await c.post("/api/v1/payments", headers=admin)
    assert r.status_code == 201, r.text
    r = await c.get(f"/api/v1/payments/{r.json()['id']}?format=csv", headers=admin)
    assert r.status_code == 200 and "amount_cents" in r.text
    assert (await c.get("/api/v1/audit-chain/verification", headers=admin)).json()["valid"]
    doc = (await c.get("/openapi.json")).json()
    for path, statuses in {"/api/v1/vouchers": {"201", "409", "422"},
                           "/api/v1/claims/{claim_id}/decision": {"200", "404", "409"},
                           "/api/v1/payments": {"201", "409"}}.items():
        assert statuses <= set(doc["paths"][path]["post"]["responses"]), path
    await no_identity_codes(stack)


async def no_identity_codes(stack: Stack) -> None:
    """Every log line the processes wrote and every event on every stream."""
    logs = Path(stack.voucher.log).parent
    for log in sorted(logs.glob("*.log")):
        found = IDENTITY_CODE.findall(log.read_text(errors="replace"))
        assert not found, (log.name, found[:3])
    nc = await nats.connect(stack.nats.url)
    try:
        js = nc.jetstream()
        events = 0
        for stream in ("REGISTRY", "VOUCHER", "MATCHING", "DEADLETTER"):
            try:
                info = await js.stream_info(stream)
            except NotFoundError:
                continue
            if not info.state.messages:
                continue
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                data = (await js.get_msg(stream, seq)).data or b""
                assert not IDENTITY_CODE.search(data.decode(errors="replace")), (stream, seq)
                events += 1
        assert events > 10
    finally:
        await nc.close()


BULK = "/vouchers/bulk-issuance"


def rows(size: int) -> bytes:
    """A JSON bulk body of about ``size`` bytes (the service refuses it: no such budget)."""
    row = {"value_cents": 1_000, "holder": {"kind": "company", "business_id": "0000000-0"}}
    count = size // len(json.dumps(row)) + 1
    return json.dumps({"budget_id": "no-such-budget", "rows": [row] * count}).encode()


async def test_voucher_bulk_issuance_takes_larger_bodies_than_other_routes(stack: Stack) -> None:
    async with gateway_for(stack.gateway_settings(max_body_bytes=2_000)) as gw:
        body = rows(6_000)
        json_type = {"Content-Type": "application/json"}
        # Anonymous: the voucher service itself answers 401, so the body went through.
        r = await gw.client.post(f"/api/v1{BULK}", content=body, headers=json_type)
        assert r.status_code == 401, r.text
        r = await gw.client.post("/api/v1/vouchers", content=body, headers=json_type)
        assert r.status_code == 413, r.text
        assert "2000 bytes" in r.json()["detail"]

        limit = LARGE_BODIES[("POST", BULK)]
        r = await gw.client.post(f"/api/v1{BULK}", content=b" " * (limit + 1),
                                 headers=json_type)
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        assert f"{limit} bytes" in r.json()["detail"]
