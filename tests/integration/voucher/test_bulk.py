"""Bulk issuance: 10 000 CSV rows of which 1 % are bad issue exactly the good ones, each bad row
reported with its line and reason; the whole request is idempotent."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from services.voucher.models import Voucher
from tests.integration.voucher.conftest import Market

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
HEADER = ("henkilotunnus,business_id,value_cents,valid_until,home_municipality,languages,"
          "remote_suits,unemployment,education,earlier_services")


def hetu(n: int) -> str:
    """A valid henkilötunnus (temporary individual number 900-999) for each n."""
    day, individual = 1 + n % 28, 900 + n % 100
    ddmmyy = f"{day:02d}{1 + (n // 28) % 12:02d}{70 + (n // 336) % 30:02d}"
    return f"{ddmmyy}-{individual}{CHECK[int(ddmmyy + str(individual)) % 31]}"


BAD = [  # (cells, field named in the report)
    (lambda n: f"{hetu(n)[:-1]}X,,1000,,837,fi,true,,,", "holder.henkilotunnus"),
    (lambda n: ",1234567-2,1000,,837,fi,false,,,", "holder.business_id"),
    (lambda n: f"{hetu(n)},,-5,,837,fi,true,,,", "value_cents"),
    (lambda n: f"{hetu(n)},,1000,,83,fi,true,,,", "home_municipality"),
    (lambda n: f"{hetu(n)},,1000,2001-01-01,837,fi,true,,,", "valid_until"),
    (lambda n: f"{hetu(n)},,1000,,837,fi,maybe,,,", "remote_suits"),
    (lambda n: f"{hetu(n)},,1000,,837,fi,true,forever,,", "profile.unemployment"),
    (lambda n: f"{hetu(n)},,lots,,837,fi,true,,,", "value_cents"),
    (lambda n: f"{hetu(n)},,1000,,837,fi,true,,,,extra", "row"),
    (lambda n: ",,1000,,837,fi,true,,,", "holder"),
]


def csv_file(rows: int) -> tuple[str, dict[int, str]]:
    lines, bad = [HEADER], {}
    for n in range(rows):
        if n % 100 == 37:
            cells, field = BAD[(n // 100) % len(BAD)]
            lines.append(cells(n))
            bad[n + 2] = field
        else:
            lines.append(f"{hetu(n)},,1000,,837,fi sv,true,under_3_months,tertiary,none")
    return "\n".join(lines) + "\n", bad


async def test_10000_rows_with_one_percent_bad(market: Market) -> None:
    b = await market.open_budget(("region", 6_000_000), ("837", 4_000_000))
    text, bad = csv_file(10_000)
    headers = market.admin() | {"Idempotency-Key": "bulk-1", "content-type": "text/csv"}
    started = time.monotonic()
    r = await market.client.post(f"/vouchers/bulk-issuance?budget_id={b['id']}",
                                 content=text.encode(), headers=headers, timeout=300)
    elapsed = time.monotonic() - started
    assert r.status_code == 201, r.text[:500]
    report: dict[str, Any] = r.json()
    assert (report["rows"], report["issued"], report["refused"]) == (10_000, 9_900, 100)
    refused = {x["line"]: x["errors"] for x in report["results"] if x["status"] == "refused"}
    assert set(refused) == set(bad)
    for line, field in bad.items():
        assert any(e["field"].startswith(field) for e in refused[line]), (line, refused[line])
    assert report["issued_cents"] == 9_900 * 1_000
    async with market.db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Voucher)) == 9_900
    again = await market.client.post(f"/vouchers/bulk-issuance?budget_id={b['id']}",
                                     content=text.encode(), headers=headers, timeout=300)
    assert again.status_code == 201 and again.json() == report
    assert again.headers.get("Idempotent-Replayed") == "true"
    async with market.db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Voucher)) == 9_900
    dp, cp, dpo, cpo = await market.ledger_totals()
    assert dp == cp and dpo == cpo
    print(f"10 000 rows in {elapsed:.1f} s")  # measured in bench/voucher.py, not asserted


async def test_json_rows_budget_limit_and_whole_request_refusals(market: Market) -> None:
    b = await market.open_budget(("region", 2_500))
    rows = [{"holder": {"kind": "person", "henkilotunnus": hetu(n)}, "value_cents": 1_000}
            for n in range(3)] + [{"holder": {"kind": "company", "business_id": "0114162-2"},
                                   "value_cents": 0}]
    r = await market.client.post("/vouchers/bulk-issuance", headers=market.admin(),
                                 json={"budget_id": b["id"], "rows": rows})
    assert r.status_code == 201, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["issued", "issued", "refused", "refused"]
    assert results[2]["errors"][0]["message"].startswith("the budget does not hold")
    assert results[3]["errors"][0]["field"] == "value_cents"
    assert "henkilotunnus" not in r.text and hetu(0) not in r.text
    for body, headers, status in [
        (b"not json", {"content-type": "application/json"}, 422),
        (b"x", {"content-type": "application/xml"}, 415),
        (b"value_cents\n1\n", {"content-type": "text/csv"}, 422),  # no budget_id
    ]:
        r = await market.client.post("/vouchers/bulk-issuance", content=body,
                                     headers=market.admin() | headers)
        assert r.status_code == status, (body, r.text)
    r = await market.client.post(f"/vouchers/bulk-issuance?budget_id={b['id']}",
                                 content=b"colour\nred\n",
                                 headers=market.admin() | {"content-type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await market.client.post("/vouchers/bulk-issuance", headers=market.citizen(),
                                 json={"budget_id": b["id"], "rows": []})
    assert r.status_code == 403
