"""Recommendation benchmark, service part: ``GET /recommendations/{voucher_id}`` of the
matching service (a uvicorn process on SQLite, with its own nats-server), one client asking
one request at a time, with 5 000 and with 50 000 offerings in the register, side by side in
one run. The read models are seeded directly in SQL with the layout of bench/recommendation.py
(18 regions × 6 service types; about 1/108 of the offerings in the voucher's bucket). Figures:
p50/p95 per register size and the 50 000 ÷ 5 000 ratio of the p95, and the service process's
CPU time per request (user + system, from /proc: what the request costs whatever the load on
the machine).

    .venv/bin/python bench/recommendation_service.py [--calls 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import Proc, cpu_seconds, machine  # bench/ is on sys.path when run as a script
from foundation import pct
from recommendation import TODAY, offerings, vouchers
from sqlalchemy import insert

from contracts.principal import Principal, Role, encode
from kit.db import Database
from kit.migrate import upgrade
from kit.natsserver import NatsServer
from kit.settings import DEV_PRINCIPAL_SECRET
from services.matching.models import AccreditationView, OfferingView, ProviderView, VoucherView

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "services/matching/migrations")
ADMIN = {"X-Seteli-Principal": encode(Principal(sub="bench", role=Role.region_admin,
                                                region="region00"), DEV_PRINCIPAL_SECRET,
                                      ttl_seconds=7200)}


async def seed(url: str, n: int, n_vouchers: int) -> list[str]:
    db = Database(url)
    await upgrade(db, MIGRATIONS, service="matching")
    items = offerings(n, one_bucket=False)
    shift = date.today() - TODAY  # the generator's dates, moved to today
    now = datetime.now(UTC)
    providers = sorted({(o.provider_id, o.region, o.approved) for o in items})
    async with db.session() as s:
        await s.execute(insert(ProviderView), [
            {"provider_id": pid, "business_id": "1234567-1", "legal_name": f"Palvelu {pid}",
             "version": 1, "updated_at": now} for pid in sorted({p for p, _, _ in providers})])
        await s.execute(insert(AccreditationView), _accreditations(providers))
        for i in range(0, n, 5000):
            await s.execute(insert(OfferingView), [
                {"offering_id": o.offering_id, "provider_id": o.provider_id, "region": o.region,
                 "service_type": o.service_type, "title": {"fi": f"Palvelu {o.offering_id}"},
                 "municipalities": list(o.municipalities), "remote": o.remote,
                 "languages": list(o.languages), "unit_price_cents": o.price_cents,
                 "capacity": o.open_places, "taken": 0,
                 "next_start": (o.next_start or TODAY) + shift, "status": "published",
                 "version": 1} for o in items[i:i + 5000]])
        vs = vouchers(n_vouchers)
        await s.execute(insert(VoucherView), [
            {"voucher_id": v.voucher_id, "version": 1, "state": "issued", "region": v.region,
             "service_type": v.service_type, "holder_kind": "person", "holder_ref": None,
             "home_municipality": v.home_municipality, "languages": list(v.languages),
             "remote_suits": v.remote_suits, "profile": {}, "value_cents": v.value_cents,
             "valid_until": date.today() + timedelta(days=365),
             "choice_deadline": date.today() + timedelta(days=30)} for v in vs])
        await s.commit()
    await db.dispose()
    return [v.voucher_id for v in vs]


def _accreditations(providers: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
    """One accreditation per (provider, region): approved unless every offering there is
    from a not-approved draw."""
    state: dict[tuple[str, str], bool] = {}
    for pid, region, ok in providers:
        state[(pid, region)] = state.get((pid, region), False) or ok
    return [{"provider_id": pid, "region": region,
             "state": "approved" if ok else "suspended", "valid_until": None, "version": 1}
            for (pid, region), ok in sorted(state.items())]


async def measure(base: str, ids: list[str], calls: int, pid: int) -> dict[str, Any]:
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for vid in ids:  # warm-up: the index builds each region on its first read
            r = await client.get(f"/recommendations/{vid}", headers=ADMIN)
            assert r.status_code == 200, r.text
        eligible = []
        cpu0 = cpu_seconds(pid)
        for i in range(calls):
            vid = ids[i % len(ids)]
            t0 = time.perf_counter()
            r = await client.get(f"/recommendations/{vid}", params={"limit": 20},
                                 headers=ADMIN)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
            eligible.append(r.json()["eligible_count"])
        cpu = (cpu_seconds(pid) - cpu0) * 1000 / calls
    return {"p50": statistics.median(times), "p95": pct(times, 95),
            "eligible": statistics.mean(eligible), "cpu": cpu, "load": os.getloadavg()[0]}


def run(n: int, tmp: Path, nats_url: str, calls: int) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{tmp / f'matching-{n}.db'}"
    ids = asyncio.run(seed(url, n, 200))
    proc = Proc("services.matching.main:app",
                {"MATCHING_DATABASE_URL": url, "NATS_URL": nats_url,
                 "MATCHING_LOG_LEVEL": "WARNING"}, tmp / f"matching-{n}.log")
    proc.start()
    try:
        assert proc.proc is not None
        return asyncio.run(measure(proc.url, ids, calls, proc.proc.pid))
    finally:
        proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=600)
    args = parser.parse_args()
    random.seed(1)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
        broker.start()
        try:
            small = run(5_000, tmp, broker.url, args.calls)
            large = run(50_000, tmp, broker.url, args.calls)
        finally:
            broker.stop()
    print(f"recommendations through the matching service ({machine()}, SQLite, "
          f"{args.calls} calls, limit 20)")
    for label, r in (("5 000 offerings", small), ("50 000 offerings", large)):
        print(f"  {label:17s} p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  "
              f"service CPU per request {r['cpu']:.2f} ms  eligible per voucher "
              f"{r['eligible']:.0f}  (load average {r['load']:.1f})")
    print(f"  p95 50 000 / 5 000: {large['p95'] / small['p95']:.2f}x, "
          f"CPU per request 50 000 / 5 000: {large['cpu'] / small['cpu']:.2f}x")


if __name__ == "__main__":
    main()
