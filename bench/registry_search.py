"""Registry search over 5,000 offerings: latency per query shape, side by side in one run.

Seeds a registry database through the registry's own service layer (the same use cases the API
runs: validation, derived search columns, audit, outbox) with 300 providers approved across
the three demo regions and 5,000 offerings, then withdraws every 25th offering and suspends
every tenth provider (so that their offerings must disappear from the search). It starts the
registry as a uvicorn process (uvloop, httptools) with its own nats-server, waits until the
outbox relay has published every seeding event, and drives each query shape from a separate
load-generator process on 127.0.0.1: one client for latency, then several for throughput.
Bounded in time (``--seconds`` per shape). Goal: p95 <= 20 ms.

    .venv/bin/python bench/registry_search.py [--offerings 5000] [--seconds 4]
    BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/seteli_test \\
        .venv/bin/python bench/registry_search.py      # SQLite and PostgreSQL side by side
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from common import Proc, load, machine  # bench/ is on sys.path when run as a script
from sqlalchemy import func, select, text

from contracts.principal import Principal, Role, encode
from kit.db import Database, normalise_url
from kit.migrate import upgrade
from kit.natsserver import NatsServer
from kit.settings import DEV_PRINCIPAL_SECRET
from kit.versioning import IfMatch
from services.registry.domain.business_id import business_id_of
from services.registry.domain.places import MUNICIPALITIES, REGIONS, SERVICE_TYPES
from services.registry.models import plumbing as tables
from services.registry.schemas import DecisionIn, OfferingIn, ProviderApplication
from services.registry.use_cases import accreditation, offerings, providers

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "services" / "registry" / "migrations")
WORDS = (
    "valmennus työnhaku ura ohjaus koulutus rekrytointi yrittäjä kasvu digitaidot "
    "ryhmä yksilö verkossa englanniksi ruotsiksi nopea kokenut tuettu kielikoulutus "
    "asiakaspalvelu logistiikka hoiva rakennus ohjelmointi myynti"
).split()
EXTRA_LANGS = ["sv", "en", "ar", "so", "ru", "uk", "et", "fa"]
PROVIDERS = 300


@dataclass
class Seeded:
    providers: list[tuple[str, str]] = field(default_factory=list)  # (id, region)
    seconds: float = 0.0


async def seed(db: Database, n_offerings: int, rnd: random.Random) -> Seeded:
    started = time.perf_counter()
    await upgrade(db, MIGRATIONS, service="registry")
    by_region: dict[str, list[str]] = {}
    for code, (_fi, _sv, region) in MUNICIPALITIES.items():
        by_region.setdefault(region, []).append(code)
    regions = list(REGIONS)
    out = Seeded()
    valid_until = date.today() + timedelta(days=365)
    numbers = (n for n in range(2_000_000, 3_000_000) if business_id_of(n))
    for i in range(PROVIDERS):
        region = regions[i % 3]
        bid = business_id_of(next(numbers))
        assert bid
        applied = await providers.submit_application(
            db,
            ProviderApplication.model_validate(
                {
                    "business_id": bid,
                    "legal_name": f"{rnd.choice(WORDS).capitalize()} {i} Oy",
                    "contact_name": "Bench",
                    "contact_email": "bench@example.fi",
                    "description": {"fi": "Kuormitustesti"},
                    "regions": [region],
                }
            ),
            principal=None,
            key=None,
        )
        pid = applied.value.id
        admin = Principal(sub=f"bench-admin-{region}", role=Role.region_admin, region=region)
        await accreditation.decide(
            db,
            pid,
            region,
            DecisionIn(decision="approve", reason="bench", valid_until=valid_until),
            principal=admin,
            if_match=IfMatch(),
            key=None,
        )
        out.providers.append((pid, region))

    sem = asyncio.Semaphore(8)

    async def publish(j: int) -> None:
        pid, region = out.providers[j % PROVIDERS]
        staff = Principal(sub=f"bench-staff-{pid}", role=Role.provider, provider_id=pid)
        body = OfferingIn.model_validate(
            {
                "region": region,
                "service_type": rnd.choice(list(SERVICE_TYPES)),
                "title": {"fi": " ".join(rnd.sample(WORDS, 3))},
                "description": {"fi": " ".join(rnd.sample(WORDS, 12))},
                "municipalities": rnd.sample(by_region[region], rnd.randint(1, 3)),
                "remote": rnd.random() < 0.2,
                "languages": ["fi", *rnd.sample(EXTRA_LANGS, rnd.randint(0, 2))],
                "unit_price_cents": rnd.randint(20_000, 500_000),
                "capacity": rnd.randint(0, 30),
                "next_start": (date.today() + timedelta(days=rnd.randint(0, 180))).isoformat(),
                "duration_days": 42,
            }
        )
        async with sem:
            published = await offerings.publish(db, body, principal=staff, key=None)
            if j % 25 == 0:
                await offerings.withdraw(
                    db, published.value.id, principal=staff, if_match=IfMatch()
                )

    await asyncio.gather(*(publish(j) for j in range(n_offerings)))
    for i, (pid, region) in enumerate(out.providers):
        if i % 10 == 9:
            admin = Principal(sub=f"bench-admin-{region}", role=Role.region_admin, region=region)
            await accreditation.decide(
                db,
                pid,
                region,
                DecisionIn(decision="suspend", reason="bench"),
                principal=admin,
                if_match=IfMatch(),
                key=None,
            )
    out.seconds = time.perf_counter() - started
    return out


async def backlog(db: Database) -> int:
    t = tables.outbox
    async with db.reader() as s:
        n = await s.scalar(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))
    return int(n or 0)


def shapes(own: str) -> list[tuple[str, dict[str, str], bool]]:
    """(name, query, as the provider's staff)"""
    return [
        ("all regions, first page", {}, False),
        ("region", {"region": "pirkanmaa"}, False),
        (
            "region + type + language",
            {"region": "pirkanmaa", "service_type": "career-guidance", "language": "sv"},
            False,
        ),
        ("region + municipality", {"region": "pirkanmaa", "municipality": "837"}, False),
        ("remote only", {"remote": "true"}, False),
        ("free text, common word", {"q": "valmennus"}, False),
        ("free text, two words + region", {"region": "pohjois-pohjanmaa", "q": "ura ryhmä"}, False),
        ("free text, no match", {"q": "zzzz"}, False),
        ("one provider, public", {"provider_id": own}, False),
        ("own offerings, all (staff)", {"visibility": "all"}, True),
    ]


async def _prepare(backend: str, url: str, schema: str | None, n: int) -> Seeded:
    db = Database(url, schema=schema)
    try:
        seeded = await seed(db, n, random.Random(20261123))
        if not db.sqlite:
            # What autovacuum does soon after a bulk load (PostgreSQL 13+ also vacuums after
            # inserts): planner statistics, and the visibility map for index-only counts.
            async with db.write_engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(
                    text(
                        "VACUUM ANALYZE offering, offering_municipality, "
                        "offering_language, accreditation, provider"
                    )
                )
        return seeded
    finally:
        await db.dispose()


async def _drained(url: str, schema: str | None, timeout: float = 180.0) -> None:
    db = Database(url, schema=schema)
    try:
        deadline = time.monotonic() + timeout
        while (left := await backlog(db)) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{left} seeding events still unpublished")
            await asyncio.sleep(0.5)
    finally:
        await db.dispose()


def run_backend(
    backend: str, url: str, schema: str | None, args: argparse.Namespace, tmp: Path, nats_url: str
) -> dict[str, Any]:
    seeded = asyncio.run(_prepare(backend, url, schema, args.offerings))
    own = seeded.providers[1][0]  # approved, none of its offerings withdrawn
    env = {
        "REGISTRY_DATABASE_URL": url,
        "NATS_URL": nats_url,
        "REGISTRY_LOG_LEVEL": "WARNING",
        "SETELI_PRINCIPAL_SECRET": DEV_PRINCIPAL_SECRET,
    }
    if schema:
        env["REGISTRY_DATABASE_SCHEMA"] = schema
    proc = Proc(
        "services.registry.main:app", env, tmp / f"registry-{backend}.log", workers=args.workers
    )
    staff = {
        "X-Seteli-Principal": encode(
            Principal(sub="bench-staff", role=Role.provider, provider_id=own),
            DEV_PRINCIPAL_SECRET,
            ttl_seconds=3600,
        )
    }
    results: dict[str, Any] = {"seed_seconds": seeded.seconds, "shapes": {}}
    try:
        proc.start()
        asyncio.run(_drained(url, schema))
        for name, params, as_staff in shapes(own):
            target = f"{proc.url}/offerings?{urlencode(params)}"
            headers = staff if as_staff else {}
            got = httpx.get(target, headers=headers)
            got.raise_for_status()
            single = load(target, seconds=args.seconds / 2, concurrency=1, headers=headers)
            loaded = load(
                target, seconds=args.seconds, concurrency=args.concurrency, headers=headers
            )
            results["shapes"][name] = (got.json()["total"], single, loaded)
    finally:
        proc.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--offerings", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=4.0, help="per shape and load")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="also run on PostgreSQL (a fresh schema, dropped afterwards)",
    )
    args = parser.parse_args()

    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="seteli-search-") as tmp_s:
        tmp = Path(tmp_s)
        nats = NatsServer(tmp / "nats")
        nats.start()
        try:
            runs["SQLite"] = run_backend(
                "sqlite", f"sqlite+aiosqlite:///{tmp / 'registry.db'}", None, args, tmp, nats.url
            )
            if args.postgres:
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                url = normalise_url(args.postgres)
                try:
                    runs["PostgreSQL"] = run_backend("postgres", url, schema, args, tmp, nats.url)
                finally:
                    asyncio.run(_drop(url, schema))
        finally:
            nats.stop()
    report(runs, args)


async def _drop(url: str, schema: str) -> None:
    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await db.dispose()


def report(runs: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\nRegistry search over {args.offerings} offerings — {machine()}, "
        f"{args.workers} registry worker process(es); one client, then {args.concurrency}"
    )
    for backend, res in runs.items():
        print(f"  {backend}: seeded through the service layer in {res['seed_seconds']:.0f} s")
    header = f"  {'query shape':<30}{'matches':>8}"
    for backend in runs:
        header += f" | {backend + ' p50/p95/p99 ms':>27} {'req/s':>6} {'p95':>6}"
    print(header)
    worst: dict[str, tuple[float, float]] = {b: (0.0, 0.0) for b in runs}
    first = next(iter(runs.values()))
    for name in first["shapes"]:
        line = f"  {name:<30}{first['shapes'][name][0]:>8}"
        for backend, res in runs.items():
            total, single, loaded = res["shapes"][name]
            assert total == first["shapes"][name][0], (backend, name, total)
            line += (
                f" | {single['p50_ms']:>9.2f}/{single['p95_ms']:>6.2f}/"
                f"{single['p99_ms']:>6.2f}    {loaded['req_per_s']:>6.0f} "
                f"{loaded['p95_ms']:>6.1f}"
            )
            w1, w4 = worst[backend]
            worst[backend] = (max(w1, single["p95_ms"]), max(w4, loaded["p95_ms"]))
            if single["errors"] or loaded["errors"]:
                line += "  (errors!)"
        print(line)
    for backend, (w1, w4) in worst.items():
        print(
            f"  {backend}: worst p95 with one client {w1:.2f} ms "
            f"({'met' if w1 <= 20 else 'NOT met'}: goal <= 20 ms); "
            f"with {args.concurrency} clients {w4:.1f} ms"
        )


if __name__ == "__main__":
    main()
