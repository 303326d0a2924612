"""Voucher benchmark, side by side in one run, on SQLite and (with BENCH_POSTGRES_URL or
TEST_POSTGRES_URL) PostgreSQL:

1. single issuance (POST /vouchers: budget accounts locked, value split across two funders,
   voucher + accounts + transfers + hash-chained audit entry + outbox event) against the
   bare-INSERT endpoint of the same stack (bench/bare_app.py), in alternating rounds, as a
   throughput ratio, with p50/p99;
2. bulk issuance of 10 000 CSV rows end to end: from sending the file until the last
   voucher.issued event is in JetStream;
3. a choice of provider (POST /vouchers/{id}/choice, one client) with 1 000 vouchers in the
   database and again with 1 000 000, the extra vouchers seeded directly in SQL: p95 ratio.

Loopback only: its own nats-server, the services as uvicorn processes, load from another
process. Bounded: a few minutes per backend.

    .venv/bin/python bench/voucher.py [--seconds 8] [--vouchers 1000000] [--parts single,bulk]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from bare_app import create_schema
from common import Proc, load, machine  # bench/ is on sys.path when run as a script
from foundation import _create_schema, _drop_schema, pct
from sqlalchemy import text

from contracts.principal import Principal, Role, encode
from kit.db import Database, normalise_url
from kit.natsserver import NatsServer
from kit.persons import DEV_PERSON_KEY_SECRET, person_key
from kit.settings import DEV_PRINCIPAL_SECRET

HOLDER = "010280-952L"
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def auth(principal: Principal) -> dict[str, str]:
    return {"X-Seteli-Principal": encode(principal, DEV_PRINCIPAL_SECRET, ttl_seconds=7200)}


ADMIN = auth(Principal(sub="bench-admin", role=Role.region_admin, region="pirkanmaa"))
KEY = person_key(DEV_PERSON_KEY_SECRET, HOLDER, allow_temporary=True)
CITIZEN = auth(Principal(sub="bench-citizen", role=Role.citizen, person_key=KEY))
REGISTRY_ADMIN = ADMIN


def hetu(n: int) -> str:
    ddmmyy = f"{1 + n % 28:02d}{1 + (n // 28) % 12:02d}{70 + (n // 336) % 30:02d}"
    individual = 900 + n % 100
    return f"{ddmmyy}-{individual}{CHECK[int(ddmmyy + str(individual)) % 31]}"


def wait(probe: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError(what)


def open_budget(voucher: str, start: date) -> str:
    def attempt() -> str | None:
        r = httpx.post(voucher + "/budgets", headers=ADMIN, timeout=30, json={
            "service_type": "job-search-coaching", "period_start": start.isoformat(),
            "period_end": (date.today() + timedelta(days=365)).isoformat(),
            "funders": [{"funder": "region", "amount_cents": 60_000_000_000},
                        {"funder": "837", "amount_cents": 40_000_000_000}]})
        return str(r.json()["id"]) if r.status_code == 201 else None

    return str(wait(attempt, "the catalogue reaching the voucher service"))


def offering(registry: str, voucher: str, seed: int) -> str:
    """An approved provider's offering with room for everyone, seen by the voucher service."""
    from loadgen import provider_bodies

    body = provider_bodies(900 + seed)()
    pid = httpx.post(registry + "/providers", json=body, timeout=30).json()["id"]
    httpx.post(f"{registry}/providers/{pid}/accreditations/pirkanmaa/decisions", timeout=30,
               headers=REGISTRY_ADMIN, json={"decision": "approve", "reason": "bench",
                                             "valid_until": (date.today() + timedelta(days=300))
                                             .isoformat()})
    staff = auth(Principal(sub="bench-staff", role=Role.provider, provider_id=pid))
    oid = httpx.post(registry + "/offerings", headers=staff, timeout=30, json={
        "region": "pirkanmaa", "service_type": "job-search-coaching",
        "title": {"fi": "Valmennus"}, "description": {"fi": "Kuuden viikon valmennus."},
        "municipalities": ["837"], "remote": False,
        "languages": ["fi"], "unit_price_cents": 100_000, "capacity": 9_999,
        "next_start": (date.today() + timedelta(days=10)).isoformat(),
        "duration_days": 30}).json()["id"]
    return str(oid)


def issuance_vs_bare(voucher: str, bare: str, budget: str, seconds: float,
                     concurrency: int) -> dict[str, Any]:
    template = {"budget_id": budget, "value_cents": 1_000,
                "holder": {"kind": "person", "henkilotunnus": HOLDER}}
    rounds: dict[str, list[dict[str, Any]]] = {"bare": [], "issue": []}
    for _ in range(2):  # alternating rounds: both see the same machine
        rounds["bare"].append(load(bare + "/notes", seconds=seconds / 2,
                                   concurrency=concurrency, body="note"))
        rounds["issue"].append(load(voucher + "/vouchers", seconds=seconds / 2,
                                    concurrency=concurrency, body="template",
                                    template=template, headers=ADMIN))
    out = {}
    for name, runs in rounds.items():
        out[name] = {"req_per_s": statistics.mean(r["req_per_s"] for r in runs),
                     "p50_ms": statistics.mean(r["p50_ms"] for r in runs),
                     "p99_ms": max(r["p99_ms"] for r in runs),
                     "errors": sum(r["errors"] for r in runs)}
    out["ratio"] = out["issue"]["req_per_s"] / out["bare"]["req_per_s"]
    return out


async def stream_count(nats_url: str, subject: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("VOUCHER", subjects_filter=subject)
        return int((info.state.subjects or {}).get(subject, 0))
    finally:
        await nc.close()


def bulk(voucher: str, budget: str, nats_url: str, rows: int) -> dict[str, float]:
    lines = ["henkilotunnus,value_cents,home_municipality,languages,remote_suits"]
    lines += [f"{hetu(n)},1000,837,fi,true" for n in range(rows)]
    subject = "seteli.voucher.v1.voucher.issued"
    before = asyncio.run(stream_count(nats_url, subject))
    started = time.perf_counter()
    r = httpx.post(f"{voucher}/vouchers/bulk-issuance?budget_id={budget}",
                   content="\n".join(lines).encode(), timeout=300,
                   headers=ADMIN | {"content-type": "text/csv"})
    answered = time.perf_counter() - started
    assert r.status_code == 201 and r.json()["issued"] == rows, r.text[:300]
    wait(lambda: asyncio.run(stream_count(nats_url, subject)) >= before + rows,
         "every voucher.issued event in JetStream", timeout=300)
    return {"answered_s": answered, "published_s": time.perf_counter() - started}


async def seed(target: tuple[str, str | None], budget: str, first: int, last: int) -> None:
    """Vouchers ``first``..``last`` of the bench citizen, straight into the table."""
    db = Database(target[0], schema=target[1])
    try:
        await _seed(db, budget, first, last)
    finally:
        await db.dispose()


async def _seed(db: Database, budget: str, first: int, last: int) -> None:
    if db.sqlite:
        numbers = (f"WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n "
                   f"WHERE i < {last}) ")
        pad = "substr('000000000000' || i, -12, 12)"
        source = "FROM n"
    else:
        numbers = ""
        pad = "lpad(i::text, 12, '0')"
        source = f"FROM generate_series({first}, {last}) AS i"
    sql = (f"{numbers}INSERT INTO voucher (id, code, budget_id, region, service_type, "
           "holder_kind, person_key, business_id, home_municipality, languages, remote_suits, "
           "profile, value_cents, payment_scheme, valid_until, choice_deadline, state, "
           "co_payment_cents, version, issued_at, issued_by) "
           f"SELECT '00000000-0000-7000-8000-' || {pad}, 'SEED-' || {pad}, :budget, "
           "'pirkanmaa', 'job-search-coaching', 'person', :key, NULL, '837', '[\"fi\"]', "
           "true, '{}', 1000, '[{\"code\": \"start\", \"share_bp\": 10000}]', :until, "
           f":until, 'issued', 0, 1, :now, 'bench' {source}")
    async with db.session() as s:
        await s.execute(text(sql), {"budget": budget, "key": KEY, "now": _now(),
                                    "until": date.today() + timedelta(days=200)})
        await s.commit()
    async with db.session() as s:
        await s.execute(text("ANALYZE"))
        await s.commit()


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def choices(voucher: str, offerings: list[str], ids: list[str], count: int) -> dict[str, float]:
    """One client: each request chooses for another voucher (every one a real change)."""
    latencies = []
    with httpx.Client(timeout=30) as client:
        for n in range(count):
            vid = ids[n % len(ids)]
            t0 = time.perf_counter()
            r = client.post(f"{voucher}/vouchers/{vid}/choice", headers=CITIZEN,
                            json={"offering_id": offerings[n % 2]})
            latencies.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
    return {"p50_ms": statistics.median(latencies), "p95_ms": pct(latencies, 95)}


def seed_id(i: int) -> str:
    return f"00000000-0000-7000-8000-{i:012d}"


def run_backend(label: str, url: str, schema: str | None, tmp: Path, nats_url: str,
                args: argparse.Namespace) -> dict[str, Any]:
    env = {"NATS_URL": nats_url, "SETELI_ENV": "test", "REGISTRY_LOG_LEVEL": "WARNING",
           "VOUCHER_LOG_LEVEL": "WARNING", "BARE_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(Path(__file__).resolve().parent)}
    procs: list[Proc] = []
    dbs = {name: (url if schema else f"sqlite+aiosqlite:///{tmp / (label + name + '.db')}",
                  f"{schema}_{name}" if schema else None) for name in ("registry", "voucher",
                                                                       "bare")}
    try:
        for name, (db_url, db_schema) in dbs.items():
            prefix = name.upper()
            penv = {**env, f"{prefix}_DATABASE_URL": db_url}
            if db_schema:
                penv[f"{prefix}_DATABASE_SCHEMA"] = db_schema
            if name == "bare":
                if db_schema:
                    asyncio.run(_create_schema(db_url, db_schema))
                else:
                    asyncio.run(create_schema(db_url))
            app = "bare_app:app" if name == "bare" else f"services.{name}.main:app"
            proc = Proc(app, penv, tmp / f"{label}-{name}.log")
            procs.append(proc)
            proc.start()
        registry, voucher, bare = (p.url for p in procs)
        out: dict[str, Any] = {}
        if "single" in args.parts:
            budget = open_budget(voucher, date.today().replace(day=1))
            out["single"] = issuance_vs_bare(voucher, bare, budget, args.seconds,
                                             args.concurrency)
        if "bulk" in args.parts:
            bulk_budget = open_budget(voucher, date.today().replace(day=1) - timedelta(days=1))
            out["bulk"] = bulk(voucher, bulk_budget, nats_url, 10_000)
        if "choice" not in args.parts:
            return out
        offerings = [offering(registry, voucher, i + (0 if schema is None else 10))
                     for i in range(2)]

        def seen() -> bool:
            r = httpx.post(f"{voucher}/vouchers/{seed_id(1)}/choice", headers=CITIZEN,
                           json={"offering_id": offerings[1]}, timeout=30)
            return r.status_code == 200

        vdb = dbs["voucher"]
        choice_budget = open_budget(voucher, date.today().replace(day=1) - timedelta(days=2))
        asyncio.run(seed(vdb, choice_budget, 1, 1_000))
        wait(seen, "offerings in the voucher service")
        sample = [seed_id(i) for i in random.Random(1).sample(range(2, 1_001), 300)]
        small = choices(voucher, offerings, sample, args.choices)
        t0 = time.perf_counter()
        asyncio.run(seed(vdb, choice_budget, 1_001, args.vouchers))
        seeded_s = time.perf_counter() - t0
        sample = [seed_id(i) for i in random.Random(2).sample(range(1_001, args.vouchers), 300)]
        large = choices(voucher, offerings, sample, args.choices)
        return out | {"choice_small": small, "choice_large": large, "seeded_s": seeded_s}
    finally:
        for p in procs:
            p.stop()
        if schema:
            for name in ("registry", "voucher", "bare"):
                asyncio.run(_drop_schema(url, f"{schema}_{name}"))


def report(label: str, r: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\nVoucher benchmark, {label} — {machine()}, load average "
          f"{os.getloadavg()[0]:.1f}, {args.concurrency} clients, {args.seconds:g} s per "
          "measurement")
    if "single" in r:
        s = r["single"]
        print(f"  bare INSERT      {s['bare']['req_per_s']:8.0f} req/s  p50 "
              f"{s['bare']['p50_ms']:6.1f} ms  p99 {s['bare']['p99_ms']:6.1f} ms")
        print(f"  single issuance  {s['issue']['req_per_s']:8.0f} req/s  p50 "
              f"{s['issue']['p50_ms']:6.1f} ms  p99 {s['issue']['p99_ms']:6.1f} ms  "
              f"ratio {s['ratio']:.2f}× (goal ≥ 0.5×), errors {s['issue']['errors']}")
    if "bulk" in r:
        b = r["bulk"]
        print(f"  bulk 10 000 rows answered in {b['answered_s']:.1f} s, every event in "
              f"JetStream after {b['published_s']:.1f} s (goal ≤ 10 s)")
    if "choice_small" not in r:
        return
    cs, cl = r["choice_small"], r["choice_large"]
    print(f"  choice p95 {cs['p95_ms']:.1f} ms with 1 000 vouchers, {cl['p95_ms']:.1f} ms "
          f"with {args.vouchers:,} (ratio {cl['p95_ms'] / cs['p95_ms']:.2f}×, goal ≤ 1.5×; "
          f"seeded in {r['seeded_s']:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--vouchers", type=int, default=1_000_000)
    parser.add_argument("--choices", type=int, default=300)
    parser.add_argument("--parts", type=lambda v: set(v.split(",")),
                        default={"single", "bulk", "choice"},
                        help="comma-separated among single, bulk, choice (default: all)")
    args = parser.parse_args()
    pg = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    results = {}
    with tempfile.TemporaryDirectory(prefix="seteli-bench-voucher-") as d:
        tmp = Path(d)
        broker = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
        broker.start()
        try:
            results["SQLite"] = run_backend("sqlite", "", None, tmp, broker.url, args)
            report("SQLite", results["SQLite"], args)
            if pg:
                results["PostgreSQL"] = run_backend(
                    "pg", normalise_url(pg), f"bench_{random.randrange(10**6)}", tmp,
                    broker.url, args)
                report("PostgreSQL", results["PostgreSQL"], args)
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
