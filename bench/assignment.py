"""Default-assignment solve benchmark: 300 000 vouchers × 3 000 offerings, top-50 candidates.

A synthetic region (municipalities of Zipf-like population, providers with one to many thin
offices, offerings in one to three municipalities and some remote, holders' languages and
remote preference, three voucher values, outcome figures and ratings) gives each voucher its
top-50 eligible offerings by ``recommend``, once per class of holders that rank alike. Then,
side by side:

- ``solve`` (services.matching.domain.assignment): min-cost max-flow over voucher classes,
  the optimum; time and the process's peak RSS (data included);
- ``greedy``: vouchers in a seeded random order, each takes its best candidate with room;
- with ``--worst``, the same solve on random candidate lists that no two vouchers share
  (every voucher its own class: the graph a naive per-voucher build would make).

    .venv/bin/python bench/assignment.py [--vouchers 300000] [--offerings 3000] [--k 50]
                                         [--share-cap 0.03] [--worst]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.matching.domain.assignment import (  # noqa: E402
    AssignmentInput,
    candidate_arrays,
    greedy,
    solve,
)
from services.matching.domain.index import OfferingIndex  # noqa: E402
from services.matching.domain.score import recommend, region_rating_mean  # noqa: E402
from services.matching.domain.summary import summarise  # noqa: E402
from services.matching.domain.types import (  # noqa: E402
    OfferingView,
    OutcomeFigure,
    RatingSummary,
    VoucherView,
)

LANGUAGE_MIXES = (
    (("fi",), 0.70),
    (("sv", "fi"), 0.08),
    (("fi", "en"), 0.10),
    (("en",), 0.04),
    (("ru", "fi"), 0.04),
    (("ar", "en"), 0.02),
    (("so",), 0.02),
)
OFFERING_LANGUAGES = {"fi": 0.95, "sv": 0.15, "en": 0.30, "ru": 0.05, "ar": 0.03, "so": 0.03}
VALUES = (150_000, 200_000, 250_000)


def region(
    vouchers: int, offerings: int, k: int, seed: int = 2026
) -> tuple[AssignmentInput, dict[str, np.ndarray[Any, Any]]]:
    """Each voucher's top-k candidates by ``recommend``, called once per distinct holder
    profile (municipality, languages, remote preference, voucher value), as a run does."""
    rng = np.random.default_rng(seed)
    n_m = 40
    pop = 1.0 / np.arange(1, n_m + 1) ** 1.1
    pop /= pop.sum()
    n_p = max(1, offerings // 4)
    weight = 1.0 / np.arange(1, n_p + 1) ** 0.8  # a few providers with many thin offices
    provider = rng.choice(n_p, offerings, p=weight / weight.sum())
    in_muni = np.zeros((n_m, offerings), dtype=bool)
    in_muni[rng.choice(n_m, offerings, p=pop), np.arange(offerings)] = True
    extra = rng.random(offerings) < 0.3
    in_muni[rng.choice(n_m, offerings, p=pop)[extra], np.flatnonzero(extra)] = True
    remote = rng.random(offerings) < 0.25
    langs = {code: rng.random(offerings) < p for code, p in OFFERING_LANGUAGES.items()}
    capacity = rng.integers(40, 140, offerings)
    price = rng.choice([140_000, 180_000, 220_000, 260_000], offerings)
    today = date(2026, 12, 1)
    views = [
        OfferingView(
            offering_id=f"o{i:05d}",
            provider_id=f"p{int(provider[i]):05d}",
            region="bench",
            service_type="coaching",
            municipalities=tuple(f"m{m:02d}" for m in np.flatnonzero(in_muni[:, i]).tolist()),
            remote=bool(remote[i]),
            languages=tuple(c for c, mask in langs.items() if mask[i]),
            open_places=int(capacity[i]),
            price_cents=int(price[i]),
            next_start=today + timedelta(days=int(rng.integers(0, 200))),
            approved=True,
        )
        for i in range(offerings)
    ]
    bucket = OfferingIndex(views).bucket("bench", "coaching")
    position = {o.offering_id: i for i, o in enumerate(views)}
    figures: dict[str, OutcomeFigure] = {}
    ratings: dict[str, RatingSummary] = {}
    for p in sorted({o.provider_id for o in views}):
        shown = rng.random() < 0.6  # the rest: too few participants (a neutral 0)
        ratio = round(float(np.clip(rng.normal(1.0, 0.2), 0.4, 1.8)), 2) if shown else None
        figures[p] = OutcomeFigure(
            p, "coaching", "bench", 40 if shown else 5, shown, None, None, ratio, None, None,
            today - timedelta(days=730), today, "bench",
        )  # fmt: skip
        if rng.random() < 0.7:
            ratings[p] = RatingSummary(p, int(rng.integers(1, 60)), round(rng.uniform(2, 5), 1))
    prior = region_rating_mean(ratings.values())

    home = rng.choice(n_m, vouchers, p=pop)
    mix = rng.choice(len(LANGUAGE_MIXES), vouchers, p=[p for _, p in LANGUAGE_MIXES])
    remote_suits = rng.random(vouchers) < 0.5
    value = rng.choice(len(VALUES), vouchers)
    key = ((home * len(LANGUAGE_MIXES) + mix) * 2 + remote_suits) * len(VALUES) + value
    keys, inverse = np.unique(key, return_inverse=True)
    rankings = []
    for i, kk in enumerate(keys.tolist()):
        rest, v_value = divmod(kk, len(VALUES))
        rest, suits = divmod(rest, 2)
        m, spoken = divmod(rest, len(LANGUAGE_MIXES))
        holder = VoucherView(
            voucher_id=f"class{i}",
            region="bench",
            service_type="coaching",
            holder_kind="person",
            home_municipality=f"m{m:02d}",
            languages=LANGUAGE_MIXES[spoken][0],
            remote_suits=bool(suits),
            value_cents=VALUES[v_value],
            choice_deadline=today,
        )
        rec = recommend(
            holder, bucket, figures, ratings, today=today, rotation_key=seed, limit=k,
            rating_prior=prior, excluded_limit=0,
        )  # fmt: skip
        rankings.append(rec.ranked)
    candidates, scores = candidate_arrays(inverse, rankings, position, k)
    groups = {
        "municipality": home,
        "language": mix,
        "holder_kind": (rng.random(vouchers) < 0.1).astype(np.int64),
    }
    inp = AssignmentInput(
        candidates=candidates,
        scores=scores,
        capacities=capacity,
        offering_provider=provider,
        share_cap=0.02,
        seed=seed,
    )
    return inp, groups


def worst(vouchers: int, offerings: int, k: int, seed: int = 2026) -> AssignmentInput:
    """Random candidate lists: no two vouchers alike."""
    rng = np.random.default_rng(seed)
    # row v is a_v, a_v + b_v, a_v + 2·b_v … mod offerings, b_v coprime to it: K distinct
    steps = np.array([b for b in range(1, offerings) if np.gcd(b, offerings) == 1])
    a = rng.integers(0, offerings, vouchers)[:, None]
    b = rng.choice(steps, vouchers)[:, None]
    cand = (a + b * np.arange(k)[None, :]) % offerings
    scores = -np.sort(-rng.integers(0, 1000, (vouchers, k)), axis=1)
    return AssignmentInput(
        candidates=cand.astype(np.int32),
        scores=scores.astype(np.int32),
        capacities=rng.integers(40, 140, offerings),
        offering_provider=rng.integers(0, offerings // 4, offerings),
        share_cap=0.02,
        seed=seed,
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vouchers", type=int, default=300_000)
    ap.add_argument("--offerings", type=int, default=3_000)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--share-cap", type=float, default=0.03)
    ap.add_argument("--worst", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    if args.worst:
        inp, groups = worst(args.vouchers, args.offerings, args.k), None
    else:
        inp, groups = region(args.vouchers, args.offerings, args.k)
    inp = AssignmentInput(**{**inp.__dict__, "share_cap": args.share_cap})
    built = time.perf_counter() - t0
    before = peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    best = solve(inp)
    solve_s, solve_cpu = time.perf_counter() - t0, time.process_time() - c0
    after = peak_mb()
    t0 = time.perf_counter()
    base = greedy(inp)
    greedy_s = time.perf_counter() - t0
    again = solve(inp)
    n = args.vouchers
    print(
        f"{n} vouchers × {args.offerings} offerings, top-{args.k}, share cap "
        f"{args.share_cap:.0%} ({inp.provider_cap} vouchers), capacity "
        f"{int(np.sum(inp.capacities))}; candidates built in {built:.1f} s "
        f"({'random lists' if args.worst else 'synthetic region'})"
    )
    print(
        f"solve:  {solve_s:6.2f} s (CPU time {solve_cpu:.2f} s)  peak RSS {after:7.0f} MB "
        f"(before solve {before:.0f} MB)  "
        f"classes {best.classes}  placed {best.placed / n:6.1%}  objective {best.objective}"
    )
    print(
        f"greedy: {greedy_s:6.2f} s  placed {base.placed / n:6.1%}  objective {base.objective}"
        f"  ->  solve ÷ greedy objective {best.objective / max(base.objective, 1):.4f}"
    )
    print(f"same seed, same assignment: {bool(np.array_equal(best.offering, again.offering))}")
    if groups is not None:
        s = summarise(best, groups)
        print(
            f"first choice {s.first_choice_share:.1%} of placed; unplaced by reason "
            f"{s.unplaced_by_reason}"
        )
        for dim, rows in s.disparity.items():
            shares = [r.placed_share for r in rows]
            print(f"  {dim}: placed share {min(shares):.1%} … {max(shares):.1%} over {len(rows)}")


if __name__ == "__main__":
    main()
