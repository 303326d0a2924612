"""Budgets and issuance through the voucher service's API, on a real ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from kit.persons import CodeCipher
from services.voucher.models import Voucher
from services.voucher.use_cases import issuance
from tests.integration.voucher.conftest import HETU, OTHER_HETU, Market


def usage(budget: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {f["funder"]: {k: v for k, v in f.items() if k != "funder"}
            for f in budget["funders"]}


async def test_budget_opened_topped_up_used_and_closed(market: Market) -> None:
    b = await market.open_budget(("region", 700_000), ("837", 300_000))
    assert b["status"] == "open" and b["version"] == 1
    assert usage(b)["region"]["available_cents"] == 700_000
    r = await market.issue(b["id"], value=100_001)
    assert r.status_code == 201, r.text
    b = (await market.client.get(f"/budgets/{b['id']}", headers=market.admin())).json()
    u = usage(b)
    # split in proportion to what each funder holds, largest remainder: 70 000.7 / 30 000.3
    assert u["region"]["committed_cents"] == 70_001 and u["837"]["committed_cents"] == 30_000
    assert sum(f["available_cents"] for f in b["funders"]) == 1_000_000 - 100_001
    r = await market.client.post(f"/budgets/{b['id']}/top-ups", headers=market.admin(),
                                 json={"funder": "536", "amount_cents": 5_000,
                                       "reason": "Nokia joins the alliance"})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    assert usage(r.json())["536"]["funded_cents"] == 5_000
    r = await market.client.post(f"/budgets/{b['id']}/closure", headers=market.admin(),
                                 json={"reason": "period over"})
    assert r.status_code == 200, r.text
    closed = r.json()
    for funder, u in usage(closed).items():
        assert u["available_cents"] == 0, funder
        assert u["funded_cents"] == u["committed_cents"] + u["spent_cents"], funder
    assert (await market.issue(b["id"])).status_code == 409
    again = await market.client.post(f"/budgets/{b['id']}/top-ups", headers=market.admin(),
                                     json={"funder": "837", "amount_cents": 1, "reason": "late"})
    assert again.status_code == 409
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo


async def test_person_voucher_is_keyed_encrypted_and_seen_only_by_its_holder(
        market: Market) -> None:
    b = await market.open_budget(("region", 1_000_000))
    r = await market.issue(b["id"])
    assert r.status_code == 201, r.text
    v = r.json()
    assert HETU not in r.text and "952L" not in r.text
    assert v["code"] and v["profile"]["unemployment"] == "from_3_to_12_months"
    assert [m["amount_cents"] for m in v["payment_scheme"]] == [45_000, 60_000, 45_000]
    mine = await market.client.get("/vouchers", headers=market.citizen(HETU))
    assert [x["id"] for x in mine.json()["items"]] == [v["id"]]
    assert mine.json()["items"][0]["code"] == v["code"]
    other = market.citizen(OTHER_HETU)
    assert (await market.client.get("/vouchers", headers=other)).json()["items"] == []
    assert (await market.client.get(f"/vouchers/{v['id']}", headers=other)).status_code == 404
    far = market.admin("pohjois-pohjanmaa")
    assert (await market.client.get(f"/vouchers/{v['id']}", headers=far)).status_code == 404
    async with market.db.reader() as s:
        row = (await s.execute(select(Voucher).where(Voucher.id == v["id"]))).scalar_one()
    assert row.hetu_ciphertext and HETU.encode() not in row.hetu_ciphertext
    cipher = CodeCipher(market.settings.hetu_encryption_key)
    assert cipher.decrypt(row.hetu_ciphertext, associated=v["id"]) == HETU


async def test_company_voucher_and_refusals_name_the_field(market: Market) -> None:
    b = await market.open_budget(("region", 1_000_000))
    r = await market.issue(b["id"], holder={"kind": "company", "business_id": "0114162-2"})
    assert r.status_code == 201, r.text
    assert r.json()["holder_kind"] == "company" and r.json()["profile"] is not None
    other = await market.open_budget(("region", 10), region="pohjois-pohjanmaa")
    before = (await market.count("voucher"), await market.count("ledger_transfer"),
              await market.count("outbox"))
    cases = [
        ({"holder": {"kind": "person", "henkilotunnus": "010280-952X"}},
         "holder.henkilotunnus"),
        ({"holder": {"kind": "company", "business_id": "0114162-3"}}, "holder.business_id"),
        ({"value_cents": 0}, "value_cents"),
        ({"value_cents": 10**30}, "value_cents"),
        ({"budget_id": "00000000-0000-7000-8000-000000000000"}, "budget_id"),
        ({"budget_id": "../budgets"}, "budget_id"),
        ({"home_municipality": "83\x007"}, "home_municipality"),
        ({"choice_deadline": "2001-01-01"}, "choice_deadline"),
        ({"valid_until": "2001-01-01"}, "valid_until"),
        ({"languages": ["fi"] * 11}, "languages"),
        ({"unknown": 1}, "unknown"),
    ]
    for change, field in cases:
        r = await market.issue(b["id"], **change)
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        fields = [e["field"] for e in r.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (change, fields)
        assert "952X" not in r.text
    r = await market.issue(other["id"])  # another region's budget does not exist for me
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "budget_id"
    assert (await market.issue(b["id"], headers=market.citizen())).status_code == 403
    after = (await market.count("voucher"), await market.count("ledger_transfer"),
             await market.count("outbox"))
    assert after == before


async def test_500_concurrent_issues_against_a_budget_of_100(market: Market) -> None:
    value = 1_000
    b = await market.open_budget(("region", 60 * value), ("837", 40 * value))
    answers = await asyncio.gather(*(market.issue(b["id"], value=value) for _ in range(500)))
    statuses = [r.status_code for r in answers]
    assert statuses.count(201) == 100 and statuses.count(409) == 400, sorted(set(statuses))
    assert all(r.json()["type"] == "/problems/insufficient-funds"
               for r in answers if r.status_code == 409)
    b = (await market.client.get(f"/budgets/{b['id']}", headers=market.admin())).json()
    assert all(f["available_cents"] == 0 for f in b["funders"])
    assert sum(f["committed_cents"] for f in b["funders"]) == 100 * value
    assert await market.count("voucher") == 100
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo


async def test_same_idempotency_key_20_times_concurrently(market: Market) -> None:
    b = await market.open_budget(("region", 10_000_000))
    headers = market.admin() | {"Idempotency-Key": "issue-once"}
    answers = await asyncio.gather(*(market.issue(b["id"], headers=headers) for _ in range(20)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.text for r in answers}) == 1
    assert await market.count("voucher") == 1
    other = await market.issue(b["id"], hetu=OTHER_HETU, headers=headers)
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    # a refusal is remembered too: the same request again gets the same 409 even after a top-up
    small = await market.open_budget(("region", 10), service_type="career-guidance")
    key = market.admin() | {"Idempotency-Key": "too-big"}
    first = await market.issue(small["id"], value=1_000, headers=key)
    await market.client.post(f"/budgets/{small['id']}/top-ups", headers=market.admin(),
                             json={"funder": "region", "amount_cents": 5_000, "reason": "more"})
    second = await market.issue(small["id"], value=1_000, headers=key)
    assert first.status_code == second.status_code == 409
    assert first.json()["detail"] == second.json()["detail"]
    assert (await market.issue(small["id"], value=1_000)).status_code == 201


async def test_concurrent_issuances_are_written_together_each_answered_on_its_own(
        market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """One admin's concurrent issuances from one budget go into batches (one transaction
    each); within a batch a key used twice, a key used before, a refused key and a voucher the
    budget cannot cover any more are each answered as they would be alone."""
    batches: list[int] = []
    write = issuance.TOGETHER.writer

    async def counted(batch: list[Any]) -> Any:
        batches.append(len(batch))
        return await write(batch)

    monkeypatch.setattr(issuance.TOGETHER, "writer", counted)
    value = 10_000
    b = await market.open_budget(("region", 6 * value), ("837", 4 * value))  # ten vouchers
    admin = market.admin()
    before = await market.issue(b["id"], value=value, headers=admin | {"Idempotency-Key": "k0"})
    assert before.status_code == 201

    def keyed(key: str, **over: Any) -> Any:
        return market.issue(b["id"], value=value, headers=admin | {"Idempotency-Key": key},
                            **over)

    answers = await asyncio.gather(
        keyed("k0"), keyed("twice"), keyed("twice"), keyed("k0", hetu=OTHER_HETU),
        *(keyed(f"k{i}") for i in range(1, 12)),
        *(market.issue(b["id"], value=value) for _ in range(3)))
    assert max(batches) > 1, batches
    assert answers[0].text == before.text and answers[0].headers["Idempotent-Replayed"]
    assert answers[1].status_code == 201 and answers[1].json() == answers[2].json()
    assert answers[3].status_code == 409  # k0 with another body
    assert answers[3].json()["errors"][0]["field"] == "Idempotency-Key"
    statuses = [r.status_code for r in answers[4:]]
    assert statuses.count(201) == 8 and statuses.count(409) == 6, statuses  # 1 + 1 + 8 = 10
    assert all(r.json()["type"] == "/problems/insufficient-funds"
               for r in answers[4:] if r.status_code == 409)
    assert await market.count("voucher") == 10
    refused = next(i for i, r in enumerate(answers[4:15], start=1) if r.status_code == 409)
    await market.client.post(f"/budgets/{b['id']}/top-ups", headers=admin,
                             json={"funder": "region", "amount_cents": value, "reason": "more"})
    again = await keyed(f"k{refused}")  # a refusal in a batch is remembered under its key
    assert again.status_code == 409
    assert again.json()["detail"] == answers[3 + refused].json()["detail"]
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo
    verified = (await market.client.get("/audit-chain/verification", headers=admin)).json()
    assert verified["valid"], verified
