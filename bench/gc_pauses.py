"""Garbage-collection pauses in a running service: each service (registry, voucher,
matching) and the gateway started alone in a process of its own, as in production (its
lifespan run, an empty SQLite database, a nats-server of the benchmark's own), then a full
collection timed with the objects of start-up in the collector's generations and with them
frozen (``kit.heap.settled_heap``, what every app does while it runs), the two taking turns.

A full collection runs when enough objects have survived younger collections: rarely, but it
stops every request in flight for as long as it walks the heap.

    .venv/bin/python bench/gc_pauses.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import machine  # bench/ is on sys.path when run as a script

from kit.natsserver import NatsServer
from tests.support import DbFactory, service_settings

NAMES = ("registry", "voucher", "matching", "gateway")


def full_collection_ms(rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def measure(app: Any, rounds: int) -> dict[str, Any]:
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
        out: dict[str, Any] = {"frozen objects": frozen}
        for turn in range(4):
            if turn % 2 == 0:
                gc.unfreeze()
                out["unfrozen"] = full_collection_ms(rounds)
                out["tracked"] = len(gc.get_objects())
            else:
                gc.freeze()
                out["frozen"] = full_collection_ms(rounds)
        return out


def app_of(name: str, factory: DbFactory, nats_url: str) -> Any:
    """The app ``name``, its modules imported only now (one app per process)."""
    if name == "gateway":
        from gateway.main import create_app
        from gateway.settings import Settings

        return create_app(Settings(log_level="WARNING", dev_mode=False))
    module = importlib.import_module(f"services.{name}.main")
    settings = importlib.import_module(f"services.{name}.settings").Settings
    return module.create_app(service_settings(settings, factory.new(name), nats_url))


async def one(name: str, rounds: int, nats_url: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        r = await measure(app_of(name, DbFactory("sqlite", Path(d)), nats_url), rounds)
    print(json.dumps(r))


def main(rounds: int) -> None:
    print(f"# gc pauses — {machine()}; each process started alone")
    print("| process | objects after start-up | full collection, not frozen "
          "| full collection, frozen |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        nats = NatsServer(Path(d) / "nats")
        nats.start()
        try:
            for name in NAMES:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", name, "--rounds", str(rounds),
                     "--nats-url", nats.url],
                    capture_output=True, text=True, timeout=300, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"| {name} | {r['tracked']:,} | {r['unfrozen']:.1f} ms "
                      f"| {r['frozen']:.2f} ms |")
        finally:
            nats.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--one", choices=NAMES, help=argparse.SUPPRESS)
    parser.add_argument("--nats-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        asyncio.run(one(args.one, args.rounds, args.nats_url))
    else:
        main(args.rounds)
