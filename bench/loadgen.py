"""A small closed-loop HTTP load generator, run as its own process so that it does not share
the event loop (or the GIL) with the server it measures. Loopback only; bounded by count and
time. Prints one JSON line: requests, errors, seconds, req_per_s, p50_ms, p95_ms, p99_ms.

    python bench/loadgen.py --url http://127.0.0.1:8001/healthz --seconds 5 --concurrency 16
    python bench/loadgen.py --url http://127.0.0.1:8001/providers --body provider --seed 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import aiohttp

from services.registry.domain.business_id import business_id_of


def business_ids(start: int) -> itertools.count[int]:
    return itertools.count(start)


def provider_bodies(seed: int) -> Callable[[], dict[str, Any]]:
    counter = itertools.count(seed * 100_000)

    def make() -> dict[str, Any]:
        while True:
            bid = business_id_of(next(counter))
            if bid:
                return {
                    "business_id": bid,
                    "legal_name": f"Bench {bid} Oy",
                    "contact_name": "Bench",
                    "contact_email": "bench@example.fi",
                    "description": {"fi": "Kuormitustesti"},
                    "regions": ["pirkanmaa"],
                }

    return make


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    host = urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loadgen only targets loopback addresses")
    body: Callable[[], dict[str, Any]] | None = None
    if args.body == "provider":
        body = provider_bodies(args.seed)
    elif args.body == "note":
        body = lambda: {"text": "a note of a modest length"}  # noqa: E731
    elif args.body == "template":
        template = json.loads(args.template)
        body = lambda: template  # noqa: E731
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + args.seconds
    headers = json.loads(args.headers) if args.headers else {}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        # warm-up: open the connections
        await asyncio.gather(
            *(session.get(args.url.rsplit("/", 1)[0] + "/healthz") for _ in range(args.concurrency))
        )

        async def worker() -> None:
            nonlocal errors, sent
            while time.perf_counter() < deadline and sent < args.max_requests:
                sent += 1
                t0 = time.perf_counter()
                if body is None:
                    resp = await session.get(args.url, headers=headers)
                else:
                    resp = await session.post(args.url, json=body(), headers=headers)
                await resp.read()
                latencies.append(time.perf_counter() - t0)
                if resp.status >= 400:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "req_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(ms), 2) if ms else None,
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--body", choices=["none", "provider", "note", "template"], default="none")
    parser.add_argument("--template", default="", help="the JSON body of every request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--headers", default="")
    args = parser.parse_args()
    import uvloop

    print(json.dumps(uvloop.run(run(args))))


if __name__ == "__main__":
    main()
