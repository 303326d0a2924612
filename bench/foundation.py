"""Foundation benchmark: what the plumbing costs, measured side by side in one run.

1. hello-JSON: GET /healthz of a service built with kit's app factory (middleware, no I/O);
2. bare INSERT: one row in one transaction (bench/bare_app.py), and the same with an outbox
   event written in the transaction, on SQLite and, when BENCH_POSTGRES_URL (or
   TEST_POSTGRES_URL) is set, PostgreSQL;
3. a real use case for scale: a provider application in the registry (provider, accreditation,
   audit and outbox rows), on SQLite and, with a URL, on PostgreSQL;
4. event latency through outbox → JetStream → inbox, registry to a consuming service (the probe
   of tests/probe, which records each provider.applied) on each backend: for every event, from
   the outbox row's timestamp (taken in the registry's transaction) to the inbox row's (taken
   in the consumer's), first idle (one event at a time), then for every event of the
   provider-application load.

Everything runs on 127.0.0.1: its own nats-server, the services as uvicorn processes (uvloop,
httptools), the load from a separate process. Bounded: about 1–2 minutes in all.

    .venv/bin/python bench/foundation.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from bare_app import create_schema
from bare_app import metadata as bare_metadata
from common import Proc, load, machine  # bench/ is on sys.path when run as a script
from loadgen import provider_bodies
from sqlalchemy import select

from kit.db import Database
from kit.natsserver import NatsServer
from services.registry.models import plumbing as registry_tables
from tests.probe import plumbing as consumer_tables


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def event_latencies(registry_db: Database, consumer_db: Database) -> list[float]:
    """Milliseconds from outbox row created to inbox row written, per event, in outbox order."""
    o, i = registry_tables.outbox, consumer_tables.inbox
    async with registry_db.reader() as s:
        created = {
            r.event_id: r.created_at
            for r in (await s.execute(select(o.c.event_id, o.c.created_at).order_by(o.c.seq))).all()
        }
    async with consumer_db.reader() as s:
        done = {
            r.event_id: r.processed_at
            for r in (await s.execute(select(i.c.event_id, i.c.processed_at))).all()
        }
    out = []
    for event_id, t0 in created.items():
        t1 = done.get(event_id)
        if t1 is not None:
            out.append((_aware(t1) - _aware(t0)).total_seconds() * 1000)
    return out


def _aware(t: datetime) -> datetime:
    from datetime import UTC

    return t if t.tzinfo else t.replace(tzinfo=UTC)


async def wait_applied(registry_db: Database, consumer_db: Database, timeout: float = 60) -> None:
    from sqlalchemy import func

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with registry_db.reader() as s:
            n_out = await s.scalar(select(func.count()).select_from(registry_tables.outbox))
        async with consumer_db.reader() as s:
            n_in = await s.scalar(select(func.count()).select_from(consumer_tables.inbox))
        if n_out == n_in:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("events not applied downstream in time")


def idle_events(registry_url: str, count: int) -> None:
    make = provider_bodies(seed=99)
    with httpx.Client(timeout=10) as client:
        for _ in range(count):
            r = client.post(registry_url + "/providers", json=make())
            r.raise_for_status()
            time.sleep(0.02)


def event_pipeline(
    base: dict[str, str],
    tmp: Path,
    label: str,
    registry_db: tuple[str, str | None],
    consumer_db: tuple[str, str | None],
    *,
    seconds: float,
    concurrency: int,
    procs: list[Proc],
) -> tuple[dict[str, Any], list[float], list[float]]:
    """Registry and consumer (probe) processes on one backend: provider applications under load, and
    the outbox → inbox latency of every event, idle (one at a time) and under that load."""
    env = {**base, "REGISTRY_DATABASE_URL": registry_db[0], "PROBE_DATABASE_URL": consumer_db[0]}
    if registry_db[1]:
        env["REGISTRY_DATABASE_SCHEMA"] = registry_db[1]
    if consumer_db[1]:
        env["PROBE_DATABASE_SCHEMA"] = consumer_db[1]
    tag = label.lower()
    registry = Proc("services.registry.main:app", env, tmp / f"registry-{tag}.log")
    consumer = Proc("tests.probe:app", env, tmp / f"probe-{tag}.log")
    for proc in (registry, consumer):
        procs.append(proc)
        proc.start()

    async def applied_latencies() -> list[float]:
        # one event loop per call: the databases (asyncpg pools) live and die in it
        reg_db = Database(registry_db[0], schema=registry_db[1])
        vou_db = Database(consumer_db[0], schema=consumer_db[1])
        try:
            await wait_applied(reg_db, vou_db)
            return await event_latencies(reg_db, vou_db)
        finally:
            await reg_db.dispose()
            await vou_db.dispose()

    try:
        idle_events(registry.url, 200)
        idle = asyncio.run(applied_latencies())
        result = load(
            registry.url + "/providers",
            seconds=seconds,
            concurrency=concurrency,
            body="provider",
            seed=1,
        )
        loaded = asyncio.run(applied_latencies())[len(idle) :]
    finally:
        registry.stop()
        consumer.stop()
    return result, idle, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description="foundation benchmark")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    pg_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")

    rows: list[tuple[str, str]] = []
    latencies: list[tuple[str, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="seteli-bench-") as tmp_s:
        tmp = Path(tmp_s)
        nats = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
        nats.start()
        procs: list[Proc] = []
        schema = f"bench_{int(time.time())}"
        try:
            base = {
                "NATS_URL": nats.url,
                "SETELI_ENV": "test",
                "REGISTRY_LOG_LEVEL": "WARNING",
                "PROBE_LOG_LEVEL": "WARNING",
                "BARE_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(Path(__file__).resolve().parent),
            }

            def bare(url: str, schema: str | None, label: str) -> Proc:
                env = {**base, "BARE_DATABASE_URL": url}
                if schema:
                    env["BARE_DATABASE_SCHEMA"] = schema
                    asyncio.run(_create_schema(url, schema))
                else:
                    asyncio.run(create_schema(url))
                proc = Proc("bare_app:app", env, tmp / f"bare-{label}.log")
                procs.append(proc)
                proc.start()
                return proc

            sqlite_bare = bare(f"sqlite+aiosqlite:///{tmp / 'bare.db'}", None, "sqlite")
            hello = load(
                sqlite_bare.url + "/healthz", seconds=args.seconds, concurrency=args.concurrency
            )
            inserts = [
                (
                    "bare INSERT (SQLite)",
                    load(
                        sqlite_bare.url + "/notes",
                        seconds=args.seconds,
                        concurrency=args.concurrency,
                        body="note",
                    ),
                ),
                (
                    "INSERT + outbox event (SQLite)",
                    load(
                        sqlite_bare.url + "/notes-with-event",
                        seconds=args.seconds,
                        concurrency=args.concurrency,
                        body="note",
                    ),
                ),
            ]
            sqlite_bare.stop()
            if pg_url:
                pg_bare = bare(pg_url, schema, "pg")
                inserts += [
                    (
                        "bare INSERT (PostgreSQL)",
                        load(
                            pg_bare.url + "/notes",
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                            body="note",
                        ),
                    ),
                    (
                        "INSERT + outbox event (PostgreSQL)",
                        load(
                            pg_bare.url + "/notes-with-event",
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                            body="note",
                        ),
                    ),
                ]
                pg_bare.stop()

            pairs: list[tuple[str, str, str | None, str, str | None]] = [
                (
                    "SQLite",
                    f"sqlite+aiosqlite:///{tmp / 'registry.db'}",
                    None,
                    f"sqlite+aiosqlite:///{tmp / 'probe.db'}",
                    None,
                )
            ]
            if pg_url:
                pairs.append(
                    ("PostgreSQL", pg_url, f"{schema}_registry", pg_url, f"{schema}_probe")
                )
            for label, reg_url, reg_schema, vou_url, vou_schema in pairs:
                result, idle, loaded = event_pipeline(
                    base,
                    tmp,
                    label,
                    (reg_url, reg_schema),
                    (vou_url, vou_schema),
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    procs=procs,
                )
                inserts.append((f"provider application (registry, {label})", result))
                latencies.append((f"outbox→inbox latency, {label}, idle, one at a time", idle))
                latencies.append(
                    (f"outbox→inbox latency, {label}, under the application load", loaded)
                )
        finally:
            for p in procs:
                p.stop()
            if pg_url:  # also after a failed run: no bench schema is left behind
                for suffix in ("", "_registry", "_probe"):
                    asyncio.run(_drop_schema(pg_url, schema + suffix))
            nats.stop()

    def line(name: str, r: dict[str, float], ratio: str = "") -> tuple[str, str]:
        return name, (
            f"{r['req_per_s']:>8.0f} req/s  p50 {r['p50_ms']:>6.2f} ms  "
            f"p99 {r['p99_ms']:>6.2f} ms  errors {r['errors']}  {ratio}"
        )

    rows.append(line("hello JSON  GET /healthz", hello))
    for name, result in inserts:
        rows.append(line(name, result, f"= {result['req_per_s'] / hello['req_per_s']:.3f}x hello"))
    for name, lat in latencies:
        if lat:
            rows.append(
                (
                    name,
                    f"p50 {statistics.median(lat):6.1f} ms  p99 {pct(lat, 99):7.1f} ms  "
                    f"(n={len(lat)})",
                )
            )
    print(
        f"\nSeteli foundation benchmark — {machine()}, concurrency {args.concurrency}, "
        f"{args.seconds:g} s per load"
    )
    width = max(len(n) for n, _ in rows)
    for name, figures in rows:
        print(f"  {name:<{width}}  {figures}")


async def _create_schema(url: str, schema: str) -> None:
    from sqlalchemy import text

    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    await db.dispose()
    db = Database(url, schema=schema)
    async with db.write_engine.begin() as conn:
        await conn.run_sync(bare_metadata.create_all)
    await db.dispose()


async def _drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import text

    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await db.dispose()


if __name__ == "__main__":
    main()
