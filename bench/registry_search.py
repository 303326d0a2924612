"""Registry search at 2,000, 20,000 and 50,000 offerings: latency per query shape, SQLite and
PostgreSQL side by side in one run, and the growth from the smallest register to the others.

Seeds each registry database through the registry's own use cases with 300 providers approved
across the three demo regions; publishes the first offerings one by one (``offerings.publish``,
as ``POST /offerings``) and the rest through the bulk import (``offering_imports``, as
``POST /offerings/imports``, a provider's offerings in one request, 500 at most), provider by
provider so that both are timed under the same load: the import's speed per offering as a
ratio to one-by-one; offerings go round robin to the providers, but every 20th to one large
provider, and one small provider keeps 7 at every size (as a register grows by more
providers). Then withdraws every 25th offering and suspends every tenth provider (so that
their offerings must disappear from the search). Starts one registry per size as a uvicorn
process (uvloop, httptools) with its own nats-server, waits until the outbox relays have
published every seeding event, and drives each query shape on every size back to back (the
order alternating between shapes, so that the sizes share the load of a shared machine) from a
separate load-generator process on 127.0.0.1: one client for latency, then several for
throughput; every query asks for the same page of 20. With one client the registry
process's CPU time per request is read from /proc too: what a search costs whatever the load.
Before that, publishing one by one is compared with imports of 10, 50, 200 and 500 offerings
on a fresh register. Goal: one-client
p95 <= 20 ms at 20,000 for every shape, and p95 at 20,000 <= 1.5 x p95 at 2,000.

    .venv/bin/python bench/registry_search.py [--sizes 2000,20000,50000] [--seconds 4]
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
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from common import (  # bench/ is on sys.path when run as a script
    Proc,
    cpu_seconds_of_tree,
    load,
    machine,
)
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
from services.registry.schemas import (
    MAX_IMPORT_ROWS,
    DecisionIn,
    OfferingImportIn,
    OfferingIn,
    ProviderApplication,
)
from services.registry.schemas.common import today
from services.registry.use_cases import accreditation, offering_imports, offerings, providers

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "services" / "registry" / "migrations")
WORDS = ("valmennus työnhaku ura ohjaus koulutus rekrytointi yrittäjä kasvu digitaidot "
         "ryhmä yksilö verkossa englanniksi ruotsiksi nopea kokenut tuettu kielikoulutus "
         "asiakaspalvelu logistiikka hoiva rakennus ohjelmointi myynti").split()
OTHER_LANGS = ["ar", "so", "ru", "uk", "et", "fa"]
PROVIDERS = 300
LARGE = 1  # the provider with a twentieth of the register besides its round-robin share
SMALL = 2  # a provider that stays small as the register grows: its first offerings only
SMALL_OFFERINGS = 7  # (what its round-robin share is at 2,000)
PAGE = 20  # the page size of every query shape
IMPORT_SIZES = (10, 50, 200, 500)


@dataclass
class Seeded:
    providers: list[tuple[str, str]] = field(default_factory=list)  # (id, region)
    seconds: float = 0.0
    one_by_one: tuple[int, float] = (0, 0.0)  # offerings, seconds
    bulk: tuple[int, float] = (0, 0.0)


def offering(rnd: random.Random, region: str, by_region: dict[str, list[str]]) -> OfferingIn:
    return OfferingIn.model_validate({
        "region": region, "service_type": rnd.choice(list(SERVICE_TYPES)),
        "title": {"fi": " ".join(rnd.sample(WORDS, 3))},
        "description": {"fi": " ".join(rnd.sample(WORDS, 12))},
        "municipalities": rnd.sample(by_region[region], rnd.randint(1, 3)),
        "remote": rnd.random() < 0.2,
        # Finnish always; Swedish and English the commonest others.
        "languages": ["fi", *(["sv"] if rnd.random() < 0.3 else []),
                      *(["en"] if rnd.random() < 0.25 else []),
                      *rnd.sample(OTHER_LANGS, rnd.randint(0, 1))],
        "unit_price_cents": rnd.randint(20_000, 500_000), "capacity": rnd.randint(0, 30),
        "next_start": (today() + timedelta(days=rnd.randint(0, 180))).isoformat(),
        "duration_days": 42})


def places() -> dict[str, list[str]]:
    by_region: dict[str, list[str]] = {}
    for code, (_fi, _sv, region) in MUNICIPALITIES.items():
        by_region.setdefault(region, []).append(code)
    return by_region


def staff(pid: str) -> Principal:
    return Principal(sub=f"bench-staff-{pid}", role=Role.provider, provider_id=pid)


def owner(j: int) -> int:
    """The provider of the j-th offering: round robin, every 20th to the large one, and the
    small one's share beyond its first :data:`SMALL_OFFERINGS` to its neighbour."""
    if j % 20 == 0:
        return LARGE
    if j % PROVIDERS == SMALL and j // PROVIDERS >= SMALL_OFFERINGS:
        return SMALL + 1
    return j % PROVIDERS


async def approved(db: Database, out: Seeded, n: int, rnd: random.Random) -> None:
    """``n`` providers, each approved in one of the regions in turn."""
    regions = list(REGIONS)
    valid_until = today() + timedelta(days=365)
    numbers = (n for n in range(2_000_000, 3_000_000) if business_id_of(n))
    for i in range(n):
        region = regions[i % 3]
        bid = business_id_of(next(numbers))
        assert bid
        applied = await providers.submit_application(db, ProviderApplication.model_validate({
            "business_id": bid, "legal_name": f"{rnd.choice(WORDS).capitalize()} {i} Oy",
            "contact_name": "Bench", "contact_email": "bench@example.fi",
            "description": {"fi": "Kuormitustesti"}, "regions": [region]}),
            principal=None, key=None)
        pid = applied.value.id
        admin = Principal(sub=f"bench-admin-{region}", role=Role.region_admin, region=region)
        await accreditation.decide(
            db, pid, region, DecisionIn(decision="approve", reason="bench",
                                        valid_until=valid_until),
            principal=admin, if_match=IfMatch(), key=None)
        out.providers.append((pid, region))


async def seed(db: Database, n_offerings: int, one_by_one: int, rnd: random.Random) -> Seeded:
    started = time.perf_counter()
    await upgrade(db, MIGRATIONS, service="registry")
    by_region = places()
    out = Seeded()
    await approved(db, out, PROVIDERS, rnd)
    bodies = [offering(rnd, out.providers[owner(j)][1], by_region) for j in range(n_offerings)]
    # Provider by provider: the first ``one_by_one`` offerings (one of each of the first
    # providers) published one by one, the provider's others in one import (500 at most per
    # request), so that both are timed through the same stretch of a shared machine's load.
    mine: dict[int, list[int]] = {}
    for j in range(n_offerings):
        mine.setdefault(owner(j), []).append(j)
    placed: dict[int, str] = {}
    single, bulk = [0, 0.0], [0, 0.0]
    for p, rows in mine.items():
        pid = out.providers[p][0]
        singles = [j for j in rows if j < one_by_one]
        t0 = time.perf_counter()
        for j in singles:
            placed[j] = (await offerings.publish(db, bodies[j], principal=staff(pid),
                                                 key=None)).value.id
        single = [single[0] + len(singles), single[1] + time.perf_counter() - t0]
        rest = [j for j in rows if j >= one_by_one]
        t0 = time.perf_counter()
        for k in range(0, len(rest), MAX_IMPORT_ROWS):
            chunk = rest[k:k + MAX_IMPORT_ROWS]
            done = await offering_imports.import_offerings(
                db, OfferingImportIn(items=[bodies[j] for j in chunk]), principal=staff(pid),
                key=None)
            placed.update({j: row.id for j, row in zip(chunk, done.value.items, strict=True)})
        bulk = [bulk[0] + len(rest), bulk[1] + time.perf_counter() - t0]
    out.one_by_one, out.bulk = (int(single[0]), single[1]), (int(bulk[0]), bulk[1])
    ids = [placed[j] for j in range(n_offerings)]
    for j in range(0, n_offerings, 25):
        pid = out.providers[owner(j)][0]
        await offerings.withdraw(db, ids[j], principal=staff(pid), if_match=IfMatch())
    for i, (pid, region) in enumerate(out.providers):
        if i % 10 == 9:
            admin = Principal(sub=f"bench-admin-{region}", role=Role.region_admin,
                              region=region)
            await accreditation.decide(
                db, pid, region, DecisionIn(decision="suspend", reason="bench"),
                principal=admin, if_match=IfMatch(), key=None)
    out.seconds = time.perf_counter() - started
    return out


async def import_costs(url: str, schema: str | None, rounds: int) -> dict[str, float]:
    """Milliseconds per offering published one by one and by imports of each of
    :data:`IMPORT_SIZES`, on a fresh register of three providers; the kinds take turns, round
    after round, so that they share the load of a shared machine and the register's growth."""
    db = Database(url, schema=schema)
    rnd = random.Random(7)
    try:
        await upgrade(db, MIGRATIONS, service="registry")
        out = Seeded()
        await approved(db, out, 3, rnd)
        by_region = places()
        spent: dict[str, list[float]] = {}  # kind: [offerings, seconds]
        turn = 0
        for _ in range(rounds):
            for kind, n, times in [("one by one", 1, 30), *((f"import of {k}", k, max(1, 100 // k))
                                                           for k in IMPORT_SIZES)]:
                pid, region = out.providers[turn % 3]
                turn += 1
                batches = [[offering(rnd, region, by_region) for _ in range(n)]
                           for _ in range(times)]
                t0 = time.perf_counter()
                for batch in batches:
                    if n == 1:
                        await offerings.publish(db, batch[0], principal=staff(pid), key=None)
                    else:
                        await offering_imports.import_offerings(
                            db, OfferingImportIn(items=batch), principal=staff(pid), key=None)
                took = time.perf_counter() - t0
                done = spent.setdefault(kind, [0.0, 0.0])
                done[0] += n * times
                done[1] += took
        return {kind: seconds / count * 1000 for kind, (count, seconds) in spent.items()}
    finally:
        await db.dispose()


async def backlog(db: Database) -> int:
    t = tables.outbox
    async with db.reader() as s:
        n = await s.scalar(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))
    return int(n or 0)


def shapes(own: str, small: str) -> list[tuple[str, dict[str, str], bool]]:
    """(name, query, as the provider's staff); every query asks for a page of :data:`PAGE`."""
    return [(name, {**query, "limit": str(PAGE)}, as_staff)
            for name, query, as_staff in _shapes(own, small)]


def _shapes(own: str, small: str) -> list[tuple[str, dict[str, str], bool]]:
    return [
        ("all regions, first page", {}, False),
        ("region", {"region": "pirkanmaa"}, False),
        ("region + type + language", {"region": "pirkanmaa",
                                      "service_type": "career-guidance", "language": "sv"},
         False),
        ("region + municipality", {"region": "pirkanmaa", "municipality": "837"}, False),
        ("remote only", {"remote": "true"}, False),
        ("free text, common word", {"q": "valmennus"}, False),
        ("free text, two words + region", {"region": "pohjois-pohjanmaa", "q": "ura ryhmä"},
         False),
        ("free text, no match", {"q": "zzzz"}, False),
        ("free text, Swedish place name", {"q": "tammerfors"}, False),
        ("free text, partial word", {"q": "valmen"}, False),
        ("one provider, public", {"provider_id": own}, False),
        ("own offerings, all (staff)", {"visibility": "all"}, True),
        ("small provider, public", {"provider_id": small}, False),
    ]


async def _prepare(url: str, schema: str | None, n: int, one_by_one: int) -> Seeded:
    db = Database(url, schema=schema)
    try:
        seeded = await seed(db, n, one_by_one, random.Random(20261123))
        if db.sqlite:  # planner statistics, as PRAGMA optimize or ANALYZE in operation
            async with db.write_engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
        else:
            # What autovacuum does soon after a bulk load (PostgreSQL 13+ also vacuums after
            # inserts): planner statistics, and the visibility map for index-only scans.
            async with db.write_engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM ANALYZE offering, offering_search, "
                                        "offering_municipality, offering_language, "
                                        "accreditation, provider"))
        return seeded
    finally:
        await db.dispose()


async def _drained(url: str, schema: str | None, timeout: float = 600.0) -> None:
    db = Database(url, schema=schema)
    try:
        deadline = time.monotonic() + timeout
        while (left := await backlog(db)) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{left} seeding events still unpublished")
            await asyncio.sleep(0.5)
    finally:
        await db.dispose()


def run_backend(backend: str, targets: dict[int, tuple[str, str | None]],
                args: argparse.Namespace, tmp: Path, nats_url: str
                ) -> dict[int, dict[str, Any]]:
    """Seed one database per size, start one registry per size, and measure each query shape
    on every size back to back (alternating the order), so that the sizes are compared under
    the same load of the shared machine."""
    sizes = list(targets)
    results: dict[int, dict[str, Any]] = {}
    procs: dict[int, Proc] = {}
    own: dict[int, tuple[str, str]] = {}
    for size, (url, schema) in targets.items():
        seeded = asyncio.run(_prepare(url, schema, size, args.one_by_one))
        # The large provider (a twentieth of the register) and the small one (approved).
        own[size] = seeded.providers[LARGE][0], seeded.providers[SMALL][0]
        results[size] = {"seeded": seeded, "shapes": {}}
        env = {"REGISTRY_DATABASE_URL": url, "NATS_URL": nats_url,
               "REGISTRY_LOG_LEVEL": "WARNING", "SETELI_PRINCIPAL_SECRET": DEV_PRINCIPAL_SECRET}
        if schema:
            env["REGISTRY_DATABASE_SCHEMA"] = schema
        procs[size] = Proc("services.registry.main:app", env,
                           tmp / f"registry-{backend}-{size}.log", workers=args.workers)
    try:
        for size, proc in procs.items():
            proc.start()
            asyncio.run(_drained(*targets[size]))
        for i, (name, _params, as_staff) in enumerate(shapes("", "")):
            order = sizes if i % 2 == 0 else sizes[::-1]
            got: dict[int, Any] = {}
            for size in order:
                params = dict(shapes(*own[size])[i][1])
                headers = {"X-Seteli-Principal": encode(
                    Principal(sub="bench-staff", role=Role.provider, provider_id=own[size][0]),
                    DEV_PRINCIPAL_SECRET, ttl_seconds=3600)} if as_staff else {}
                target = f"{procs[size].url}/offerings?{urlencode(params)}"
                first = httpx.get(target, headers=headers)
                first.raise_for_status()
                got[size] = [target, headers, (first.json()["total"],
                                               first.json()["total_exact"],
                                               len(first.json()["items"]))]
            for size in order:
                target, headers, _ = got[size]
                server = procs[size].proc
                assert server is not None
                cpu0 = cpu_seconds_of_tree(server.pid)
                single = load(target, seconds=args.seconds / 2, concurrency=1, headers=headers)
                single["cpu_ms"] = ((cpu_seconds_of_tree(server.pid) - cpu0) * 1000
                                    / max(single["requests"], 1))
                got[size].append(single)
            for size in order:
                target, headers, _, _ = got[size]
                got[size].append(load(target, seconds=args.seconds,
                                      concurrency=args.concurrency, headers=headers))
            for size in sizes:
                results[size]["shapes"][name] = tuple(got[size][2:])
    finally:
        for proc in procs.values():
            proc.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,50000",
                        help="register sizes (offerings), the first is the base of growth")
    parser.add_argument("--one-by-one", type=int, default=200,
                        help="offerings published one by one before the bulk import")
    parser.add_argument("--seconds", type=float, default=4.0, help="per shape and load")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--import-rounds", type=int, default=6,
                        help="rounds of the import-size comparison (0: none)")
    parser.add_argument("--search", action=argparse.BooleanOptionalAction, default=True,
                        help="measure the search (--no-search: only the imports)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="also run on PostgreSQL (a fresh schema, dropped afterwards)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    runs: dict[tuple[int, str], dict[str, Any]] = {}
    imports: dict[str, dict[str, float]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="seteli-search-") as tmp_s:
        tmp = Path(tmp_s)
        if args.import_rounds:
            imports["SQLite"] = asyncio.run(import_costs(
                f"sqlite+aiosqlite:///{tmp / 'imports.db'}", None, args.import_rounds))
            if args.postgres:
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                try:
                    imports["PostgreSQL"] = asyncio.run(import_costs(
                        normalise_url(args.postgres), schema, args.import_rounds))
                finally:
                    asyncio.run(_drop(normalise_url(args.postgres), schema))
        if not args.search:
            sizes = []
        nats = NatsServer(tmp / "nats")
        nats.start()
        try:
            lite = {size: (f"sqlite+aiosqlite:///{tmp / f'registry-{size}.db'}", None)
                    for size in sizes}
            for size, res in run_backend("sqlite", lite, args, tmp, nats.url).items():
                runs[(size, "SQLite")] = res
            if args.postgres:
                url = normalise_url(args.postgres)
                pg = {size: (url, f"bench_{uuid.uuid4().hex[:8]}") for size in sizes}
                try:
                    for size, res in run_backend("postgres", pg, args, tmp, nats.url).items():
                        runs[(size, "PostgreSQL")] = res
                finally:
                    for _url, schema in pg.values():
                        asyncio.run(_drop(url, str(schema)))
        finally:
            nats.stop()
    report(runs, sizes, args, load_before, os.getloadavg())
    report_imports(imports)


def report_imports(imports: dict[str, dict[str, float]]) -> None:
    if not imports:
        return
    print("\n  publishing: ms per offering, and the import's speed-up per offering over one "
          "by one")
    for backend, costs in imports.items():
        single = costs["one by one"]
        line = f"  {backend:<11} one by one {single:6.2f}"
        for kind, ms in costs.items():
            if kind != "one by one":
                line += f" | {kind} {ms:6.3f} ({single / ms:4.1f}x)"
        print(line)


async def _drop(url: str, schema: str) -> None:
    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await db.dispose()


def _count(total: tuple[int, bool, int]) -> str:
    """The page's rows and the (bounded) count of matches."""
    n, exact, rows = total
    return f"{rows}/{n}" if exact else f"{rows}/>{n}"


def report(runs: dict[tuple[int, str], dict[str, Any]], sizes: list[int],
           args: argparse.Namespace, load_before: tuple[float, float, float],
           load_after: tuple[float, float, float]) -> None:
    if not runs:
        return
    backends = list(dict.fromkeys(b for _, b in runs))
    print(f"\nRegistry search — {machine()}, {args.workers} registry worker process(es); "
          f"one client, then {args.concurrency}; load average before "
          f"{'/'.join(f'{x:.1f}' for x in load_before)}, after "
          f"{'/'.join(f'{x:.1f}' for x in load_after)}")
    for (size, backend), res in runs.items():
        sd: Seeded = res["seeded"]
        (n1, t1), (nb, tb) = sd.one_by_one, sd.bulk
        per1 = t1 / n1 * 1000 if n1 else float("nan")
        perb = tb / nb * 1000 if nb else float("nan")
        print(f"  {backend} {size}: seeded in {sd.seconds:.0f} s; one by one {per1:.2f} ms per "
              f"offering ({n1}), bulk import {perb:.3f} ms per offering ({nb}): "
              f"{per1 / perb:.1f}x faster")
    worst: dict[tuple[int, str], tuple[float, float]] = {}
    for size in sizes:
        print(f"\n  {size} offerings")
        header = f"  {'query shape':<32}{'rows/matches':>13}"
        for backend in backends:
            header += (f" | {backend + ' p50/p95/p99 ms':>27} {'CPU ms':>7} {'req/s':>6} "
                       f"{'p95':>6}")
        print(header)
        first = runs[(size, backends[0])]
        for name in first["shapes"]:
            line = f"  {name:<32}{_count(first['shapes'][name][0]):>13}"
            for backend in backends:
                total, single, loaded = runs[(size, backend)]["shapes"][name]
                assert total == first["shapes"][name][0], (size, backend, name, total)
                line += (f" | {single['p50_ms']:>9.2f}/{single['p95_ms']:>6.2f}/"
                         f"{single['p99_ms']:>6.2f} {single['cpu_ms']:>7.2f}    "
                         f"{loaded['req_per_s']:>6.0f} "
                         f"{loaded['p95_ms']:>6.1f}")
                w1, w4 = worst.get((size, backend), (0.0, 0.0))
                worst[(size, backend)] = (max(w1, single["p95_ms"]), max(w4, loaded["p95_ms"]))
                if single["errors"] or loaded["errors"]:
                    line += "  (errors!)"
            print(line)
    base = sizes[0]
    for size in sizes[1:]:
        print(f"\n  growth of one-client p95, {base} -> {size} offerings")
        for name in runs[(base, backends[0])]["shapes"]:
            line = f"  {name:<32}"
            for backend in backends:
                a = runs[(base, backend)]["shapes"][name][1]["p95_ms"]
                b = runs[(size, backend)]["shapes"][name][1]["p95_ms"]
                ca = runs[(base, backend)]["shapes"][name][1]["cpu_ms"]
                cb = runs[(size, backend)]["shapes"][name][1]["cpu_ms"]
                line += (f" | {backend} {a:6.2f} -> {b:6.2f} ms  {b / a:4.2f}x"
                         f" (CPU {ca:5.2f} -> {cb:5.2f} ms {cb / ca:4.2f}x)")
            print(line)
    print()
    for (size, backend), (w1, w4) in worst.items():
        print(f"  {backend} {size}: worst p95 with one client {w1:.2f} ms "
              f"({'met' if w1 <= 20 else 'NOT met'}: goal <= 20 ms); "
              f"with {args.concurrency} clients {w4:.1f} ms")


if __name__ == "__main__":
    main()
