"""Recommendation benchmark.

In-process part (this file's ``ranking`` functions, no service, no I/O): rank one voucher over
5 000 and over 50 000 offerings with ``services.matching.domain.score.recommend`` reading the
voucher's bucket of an ``OfferingIndex``, p50/p95 of many vouchers, and the 50 000 ÷ 5 000
ratio, in wall-clock time and in the thread's CPU time (which a shared machine's other load
does not inflate). Two layouts side by side:

- ``national``: the offerings spread over 18 regions × 6 service types (a bucket holds about
  1/108 of them);
- ``one bucket``: every offering in the voucher's region and service type (the worst case).

    .venv/bin/python bench/recommendation.py [--calls 400] [--limit 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.matching.domain.index import OfferingIndex  # noqa: E402
from services.matching.domain.score import recommend, region_rating_mean  # noqa: E402
from services.matching.domain.types import (  # noqa: E402
    OfferingView,
    OutcomeFigure,
    RatingSummary,
    VoucherView,
)

TODAY = date(2026, 12, 1)
REGIONS = tuple(f"region{i:02d}" for i in range(18))
TYPES = ("coaching", "training", "career", "startup", "wellbeing", "language")
MUNICIPALITIES = 20  # per region
LANGS = (("fi",), ("fi", "en"), ("fi", "sv"), ("fi", "en", "sv"), ("fi", "ru"), ("en",))


def offerings(n: int, *, one_bucket: bool, seed: int = 1) -> list[OfferingView]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        region = REGIONS[0] if one_bucket else rng.choice(REGIONS)
        out.append(
            OfferingView(
                offering_id=f"o{i:06d}",
                provider_id=f"p{rng.randrange(max(1, n // 4)):06d}",
                region=region,
                service_type=TYPES[0] if one_bucket else rng.choice(TYPES),
                municipalities=tuple(
                    f"{region}-m{rng.randrange(MUNICIPALITIES):02d}"
                    for _ in range(rng.choice((1, 1, 2, 3)))
                ),
                remote=rng.random() < 0.25,
                languages=rng.choice(LANGS),
                open_places=rng.choice((0, 1, 5, 10, 20)),
                price_cents=rng.choice((150_000, 200_000, 250_000)),
                next_start=TODAY + timedelta(days=rng.randrange(0, 200)),
                approved=rng.random() < 0.95,
            )
        )
    return out


def side_data(items: list[OfferingView], seed: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """Outcome figures and ratings keyed by provider (one region and type: enough here)."""
    rng = random.Random(seed)
    figures: dict[str, OutcomeFigure] = {}
    ratings: dict[str, RatingSummary] = {}
    for o in items:
        starts = rng.randrange(0, 80)
        figures[o.provider_id] = OutcomeFigure(
            o.provider_id, o.service_type, o.region, starts, starts >= 18, 0.5, 0.5,
            round(rng.uniform(0.6, 1.4), 4), None, None, TODAY - timedelta(days=730), TODAY, "b",
        )  # fmt: skip
        ratings[o.provider_id] = RatingSummary(
            o.provider_id, rng.randrange(0, 60), round(rng.uniform(2.5, 5.0), 2)
        )
    return figures, ratings


def vouchers(n: int, seed: int = 3) -> list[VoucherView]:
    rng = random.Random(seed)
    return [
        VoucherView(
            voucher_id=f"v{i}",
            region=REGIONS[0],
            service_type=TYPES[0],
            holder_kind="person",
            home_municipality=f"{REGIONS[0]}-m{rng.randrange(MUNICIPALITIES):02d}",
            languages=rng.choice((("fi",), ("fi", "en"), ("sv", "fi"), ("en",))),
            remote_suits=rng.random() < 0.5,
            value_cents=200_000,
            choice_deadline=TODAY,
        )
        for i in range(n)
    ]


def ranking(n_offerings: int, *, one_bucket: bool, calls: int, limit: int | None) -> dict[str, Any]:
    """Rank ``calls`` vouchers, one at a time, over ``n_offerings``: per-call milliseconds."""
    items = offerings(n_offerings, one_bucket=one_bucket)
    index = OfferingIndex(items)
    figures, ratings = side_data(items)
    prior = region_rating_mean(ratings.values())
    times = []
    cpu = []
    sizes = []
    warm = vouchers(1)[0]  # the index builds a bucket's columns on its first read
    recommend(warm, index.bucket(warm.region, warm.service_type), figures, ratings,
              today=TODAY, rotation_key=0, rating_prior=prior)  # fmt: skip
    for key, v in enumerate(vouchers(calls)):
        t0 = time.perf_counter()
        c0 = time.thread_time()
        rec = recommend(
            v, index.bucket(v.region, v.service_type), figures, ratings,
            today=TODAY, rotation_key=key, limit=limit, rating_prior=prior, excluded_limit=limit,
        )  # fmt: skip
        cpu.append((time.thread_time() - c0) * 1000)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(rec.eligible_count + rec.excluded_count)
    q = statistics.quantiles(times, n=100)
    c = statistics.quantiles(cpu, n=100)
    return {"p50": q[49], "p95": q[94], "cpu_p95": c[94], "bucket": statistics.mean(sizes)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--limit", type=int, default=20)
    args = ap.parse_args()
    print(f"in-process ranking of one voucher, {args.calls} calls, limit {args.limit}")
    for one_bucket in (False, True):
        rows = {n: ranking(n, one_bucket=one_bucket, calls=args.calls, limit=args.limit)
                for n in (5_000, 50_000)}  # fmt: skip
        name = "one bucket" if one_bucket else "national"
        for n, r in rows.items():
            print(
                f"  {name:10s} {n:6d} offerings (bucket {r['bucket']:7.0f}): "
                f"p50 {r['p50']:7.3f} ms  p95 {r['p95']:7.3f} ms  "
                f"(CPU time p95 {r['cpu_p95']:7.3f} ms)"
            )
        ratio = rows[50_000]["p95"] / rows[5_000]["p95"]
        cpu_ratio = rows[50_000]["cpu_p95"] / rows[5_000]["cpu_p95"]
        print(f"  {name:10s} p95 ratio 50 000 ÷ 5 000: {ratio:.2f}× (CPU time {cpu_ratio:.2f}×)")


if __name__ == "__main__":
    main()
