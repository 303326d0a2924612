"""Consumer throughput, side by side in one run: the same events applied by kit's consumer one
event per transaction and batched (a fetched batch in one transaction, each event still
inbox-guarded), on SQLite and (with BENCH_POSTGRES_URL or TEST_POSTGRES_URL) PostgreSQL.

N ``provider.applied`` events are published to the REGISTRY stream of a nats-server of the
benchmark's own; each mode then consumes all of them from the start with its own durable
consumer into its own fresh database of the probe service (tests/probe: one row per event plus
the inbox row). Figure: events per second from the consumer's start until the last inbox row.

    .venv/bin/python bench/consumer_batching.py [--events 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import nats
from common import machine  # bench/ is on sys.path when run as a script
from foundation import _create_schema, _drop_schema

from contracts.registry import ProviderApplied
from kit.broker import NatsLink, ensure_streams
from kit.consumer import Consumer
from kit.db import Database, normalise_url
from kit.migrate import upgrade
from kit.natsserver import NatsServer
from tests.probe import HANDLERS, MIGRATIONS, counts, plumbing


async def publish(url: str, n: int) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        pending = []
        for i in range(n):
            env = ProviderApplied(provider_id=str(uuid.uuid4()), business_id="1234567-1",
                                  legal_name=f"Erä {i} Oy", regions=["pirkanmaa"]).envelope()
            pending.append(js.publish(ProviderApplied.subject(), env.model_dump_json().encode(),
                                      headers={"Nats-Msg-Id": env.id}))
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await nc.close()


async def consume(db_url: str, schema: str | None, nats_url: str, n: int, *, batched: bool,
                  batch: int) -> float:
    db = Database(db_url, schema=schema)
    await upgrade(db, MIGRATIONS, service="probe")
    link = NatsLink(nats_url, name="bench")
    name = f"bench-{'batched' if batched else 'single'}-{uuid.uuid4().hex[:6]}"
    consumer = Consumer(name=name, stream="REGISTRY", handlers=HANDLERS, db=db,
                        plumbing=plumbing, link=link, service="probe", batch=batch,
                        batched=batched)
    link.start()
    t0 = time.perf_counter()
    consumer.start()
    try:
        while (await counts(db))["inbox"] < n:
            await asyncio.sleep(0.05)
        return n / (time.perf_counter() - t0)
    finally:
        await consumer.stop()
        await link.close()
        await db.dispose()


async def backend(label: str, url_of: Any, nats_url: str, n: int) -> dict[str, float]:
    out = {}
    for mode, batched in (("one per transaction", False), ("batched", True)):
        url, schema = await url_of(mode)
        out[mode] = await consume(url, schema, nats_url, n, batched=batched, batch=500)
        print(f"  {label:10s} {mode:20s} {out[mode]:8.0f} events/s", flush=True)
    return out


async def main_async(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
        broker.start()
        try:
            await publish(broker.url, n)
            print(f"consumer throughput, {n} events ({machine()})")

            async def sqlite(mode: str) -> tuple[str, None]:
                return f"sqlite+aiosqlite:///{tmp / (mode.replace(' ', '-') + '.db')}", None

            results = {"SQLite": await backend("SQLite", sqlite, broker.url, n)}
            pg = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
            schemas: list[str] = []
            if pg:
                async def postgres(mode: str) -> tuple[str, str]:
                    schema = f"bench_consumer_{uuid.uuid4().hex[:8]}"
                    await _create_schema(pg, schema)
                    schemas.append(schema)
                    return normalise_url(pg), schema

                try:
                    results["PostgreSQL"] = await backend("PostgreSQL", postgres, broker.url, n)
                finally:
                    for schema in schemas:
                        await _drop_schema(pg, schema)
            for label, r in results.items():
                ratio = r["batched"] / r["one per transaction"]
                print(f"  {label}: batched / one per transaction = {ratio:.1f}x")
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main_async(args.events))


if __name__ == "__main__":
    main()
