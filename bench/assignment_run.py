"""A whole default-assignment run, end to end: from ``POST /assignments`` until the last
proposal is applied in the voucher service (a choice by ``default_assignment``), at a few
sizes, side by side in one run, on SQLite.

The registry, the voucher service and matching run in this process (as in the integration
tests) on SQLite files, with a nats-server of the benchmark's own. 30 providers each publish
one offering with room for every voucher (at most 10 000 places each); the vouchers are issued
by the voucher service's bulk issuance (CSV) with today's choice deadline; then both services'
clocks are moved one day on and a region admin starts the run. Figures: the run's answer
(solve, proposals and outbox written), the last proposal in JetStream, the last one applied;
and how the total grows.

With ``--processes`` the set-up is the same, then the in-process services stop and the voucher
service and matching run the measured part as two uvicorn processes on the same databases and
broker (bench/assignment_apps.py), as in production, so that they use both cores; the
benchmark process only starts the run and counts. Without it, all three services share this
process and its one event loop.

    .venv/bin/python bench/assignment_run.py [--sizes 2000,10000] [--processes] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from common import Proc, machine  # bench/ is on sys.path when run as a script
from pydantic_settings import BaseSettings
from sqlalchemy import func, select
from voucher import hetu

from contracts.principal import Principal, Role, encode
from kit.db import Database
from kit.natsserver import NatsServer
from services.matching.main import create_app as matching_app
from services.matching.models import VoucherView
from services.matching.models import plumbing as m_plumbing
from services.matching.settings import Settings as MatchingSettings
from services.matching.use_cases.clock import today as finnish_today
from services.voucher.models import Voucher
from tests.integration.registry.conftest import Registry
from tests.integration.voucher.conftest import Market, apps
from tests.support import DbFactory, eventually, running, service_settings

PROVIDERS = 30
PROFILE = False
PROCESSES = False
BENCH = Path(__file__).resolve().parent


@contextlib.asynccontextmanager
async def town(tmp: Path, nats_url: str) -> AsyncIterator[tuple[Market, Any, Any, Any]]:
    factory = DbFactory("sqlite", tmp)
    reg, vou, reg_settings, v_settings = apps(factory, nats_url)
    settings = service_settings(MatchingSettings, factory.new("matching"), nats_url)
    m_app = matching_app(settings)
    async with running(reg) as r, running(vou) as v, running(m_app) as m:
        market = Market(v, vou, Registry(r, reg, nats_url, reg_settings.principal_secret),
                        v_settings)
        await market.catalogue()
        yield market, m, m_app, settings


async def count(db: Any, q: Any) -> int:
    async with db.reader() as s:
        return int(await s.scalar(q) or 0)


async def one_size(n: int, tmp: Path, nats_url: str) -> dict[str, float]:
    async with town(tmp, nats_url) as (market, matching, m_app, m_settings):
        for i in range(PROVIDERS):
            await market.offering(20_000 + i, capacity=min(n, 10_000), municipalities=["837"],
                                  languages=["fi"])
        budget = (await market.open_budget(("region", 2_000_000_000)))["id"]
        for first in range(0, n, 10_000):  # the bulk issuance takes 10 000 rows a request
            lines = ["henkilotunnus,value_cents,home_municipality,languages,remote_suits,"
                     "choice_deadline"]
            lines += [f"{hetu(k)},1000,837,fi,true,{finnish_today().isoformat()}"
                      for k in range(first, min(n, first + 10_000))]
            r = await market.client.post(f"/vouchers/bulk-issuance?budget_id={budget}",
                                         content="\n".join(lines).encode(), timeout=600,
                                         headers=market.admin() | {"content-type": "text/csv"})
            assert r.status_code == 201, r.text[:300]
        m_db = m_app.state.runtime.db

        async def arrived() -> bool:
            return await count(m_db, select(func.count()).select_from(VoucherView)) >= n

        await eventually(arrived, timeout=600, what="vouchers in matching's read model")
        if PROCESSES:
            settings = (market.settings, m_settings)
        else:
            return await in_process(n, market, matching, m_app)
    return await separate(n, tmp, *settings)


async def in_process(n: int, market: Market, matching: Any, m_app: Any) -> dict[str, float]:
    import services.matching.use_cases.assignments as m_assign
    import services.voucher.use_cases.assignments as v_assign

    tomorrow = finnish_today() + timedelta(days=1)
    m_assign.today = lambda: tomorrow  # type: ignore[attr-defined]
    v_assign.today = lambda: tomorrow  # type: ignore[attr-defined]
    profiler = cProfile.Profile() if PROFILE else None
    try:
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        r = await matching.post("/assignments", json={"seed": 1}, timeout=600,
                                headers=market.admin())
        answered = time.perf_counter() - t0
        assert r.status_code == 201, r.text[:300]
        placed = r.json()["summary"]["placed"]
        relay = m_app.state.runtime.relay
        applying = next(c for c in market.app.state.runtime.consumers
                        if c.name == "voucher-from-matching")
        published = None
        while True:
            if published is None and await relay.backlog() == 0:
                published = time.perf_counter() - t0
            # counted (a scan of the vouchers) only once nothing is left to deliver
            if (published is not None and await applying.lag() == 0
                    and await count(market.db, APPLIED) >= placed):
                break
            await asyncio.sleep(0.2)
        total = time.perf_counter() - t0
    finally:
        if profiler is not None:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            # the services' and kit's own functions, by time spent in them and below
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"(services|kit)/", 50)
        m_assign.today = m_assign.__dict__["_clock_today"]  # type: ignore[attr-defined]
        v_assign.today = v_assign.__dict__["_clock_today"]  # type: ignore[attr-defined]
    solve = r.json()["summary"]["solve_seconds"]
    return {"vouchers": n, "placed": placed, "solve_s": solve, "answered_s": answered,
            "published_s": published or total, "applied_s": total}


APPLIED = select(func.count()).select_from(Voucher).where(
    Voucher.chosen_by == "default_assignment")


def environment(prefix: str, settings: BaseSettings) -> dict[str, str]:
    return {f"{prefix}{k.upper()}": v if isinstance(v, str) else json.dumps(v)
            for k, v in settings.model_dump(mode="json").items() if v is not None}


async def separate(n: int, tmp: Path, v_settings: Any, m_settings: Any) -> dict[str, float]:
    """The measured part with the voucher service and matching as two uvicorn processes."""
    env = {**environment("VOUCHER_", v_settings), **environment("MATCHING_", m_settings),
           "PYTHONPATH": str(BENCH), "BENCH_DAYS_ON": "1"}
    procs = [Proc(f"assignment_apps:{name}", env, tmp / f"{name}.log")
             for name in ("voucher", "matching")]
    v_db = Database(v_settings.database_url, schema=v_settings.database_schema)
    m_db = Database(m_settings.database_url, schema=m_settings.database_schema)
    admin = {"X-Seteli-Principal": encode(Principal(sub="admin-pirkanmaa",
                                                    role=Role.region_admin, region="pirkanmaa"),
                                          m_settings.principal_secret)}
    unpublished = select(func.count()).select_from(m_plumbing.outbox).where(
        m_plumbing.outbox.c.published_at.is_(None))
    try:
        for proc in procs:
            proc.start()
        async with httpx.AsyncClient(base_url=procs[1].url, timeout=600) as client:
            t0 = time.perf_counter()
            r = await client.post("/assignments", json={"seed": 1}, headers=admin)
            answered = time.perf_counter() - t0
        assert r.status_code == 201, r.text[:300]
        placed = r.json()["summary"]["placed"]
        published = None
        deadline = t0 + 1800
        while time.perf_counter() < deadline:
            if published is None and await count(m_db, unpublished) == 0:
                published = time.perf_counter() - t0
            if published is not None and await count(v_db, APPLIED) >= placed:
                break
            await asyncio.sleep(0.5)
        total = time.perf_counter() - t0
    finally:
        for proc in procs:
            proc.stop()
        await v_db.dispose()
        await m_db.dispose()
    return {"vouchers": n, "placed": placed, "solve_s": r.json()["summary"]["solve_seconds"],
            "answered_s": answered, "published_s": published or total, "applied_s": total}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--profile", action="store_true",
                        help="print where the measured part spent its time (cProfile; "
                        "in-process only)")
    parser.add_argument("--processes", action="store_true",
                        help="the voucher service and matching as separate uvicorn processes "
                        "for the measured part")
    args = parser.parse_args()
    global PROFILE, PROCESSES
    PROFILE, PROCESSES = args.profile, args.processes
    import services.matching.use_cases.assignments as m_assign
    import services.voucher.use_cases.assignments as v_assign

    m_assign._clock_today = m_assign.today  # type: ignore[attr-defined]
    v_assign._clock_today = v_assign.today  # type: ignore[attr-defined]
    results = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
        broker.start()
        try:
            for n in (int(x) for x in args.sizes.split(",")):
                sub = tmp / f"n{n}"
                sub.mkdir()
                results.append(asyncio.run(_fresh(n, sub, broker.url)))
                print(results[-1], flush=True)
        finally:
            broker.stop()
    how = "separate processes" if PROCESSES else "one process"
    print(f"whole default-assignment run, SQLite, {PROVIDERS} offerings, {how} ({machine()})")
    for r in results:
        print(f"  {r['vouchers']:7d} vouchers: placed {r['placed']}, solve {r['solve_s']:.2f} s,"
              f" answered {r['answered_s']:.1f} s, all in JetStream {r['published_s']:.1f} s, "
              f"all applied {r['applied_s']:.1f} s ({r['vouchers'] / r['applied_s']:.0f}/s)")
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"  {b['vouchers']} / {a['vouchers']} vouchers: time x"
              f"{b['applied_s'] / a['applied_s']:.1f}")


async def _fresh(n: int, tmp: Path, nats_url: str) -> dict[str, float]:
    from tests.support import empty_broker

    await empty_broker(nats_url)
    return await one_size(n, tmp, nats_url)


if __name__ == "__main__":
    main()
