"""Risk-adjusted outcome statistics per provider × service type × region, and the creaming
signal (method version ``METHOD_VERSION``; written out in docs/MATCHING.md).

For each region × service type, a logistic regression of the outcome (employed or studying =
1) on the holders' profile bands is fitted on all its holders who started in the window (the
comparison group, frozen in the publication by its coefficients and record ids). Each holder's
expected outcome comes from it; a provider's ratio is actual ÷ expected outcomes, pulled toward
1 by ``PRIOR_EXPECTED`` pseudo-outcomes, with a 95 % Wilson interval of the unshrunk ratio.
Below ``min_starts`` starts there is no figure at all ("too few participants").
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from services.matching.domain.types import (
    ComparisonGroup,
    CreamingSignal,
    OutcomeFigure,
    OutcomeRecord,
    Publication,
)

METHOD_VERSION = "2026-12.1"
MIN_STARTS = 18
WINDOW_DAYS = 730  # two years of starts, rolling
PRIOR_EXPECTED = 5.0  # pseudo-outcomes at ratio 1 added to both actual and expected
RIDGE = 1.0  # L2 penalty on the band coefficients
INTERCEPT_RIDGE = 1.0  # L2 penalty on the intercept, toward the smoothed rate's logit
Z95 = 1.959964
SUCCESS = frozenset({"employed", "studying"})
CREAMING_MIN_DIFFERENCE = 0.10  # provider's expected rate at least this far above the region's
CREAMING_MIN_Z = 3.0  # ... and this many standard errors of a random draw of its size

# each band and its levels (the strings of contracts.voucher); an unknown string reads "unknown"
BANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("holder_kind", ("person", "company")),
    (
        "unemployment",
        (
            "not_unemployed",
            "under_3_months",
            "from_3_to_12_months",
            "from_12_to_24_months",
            "over_24_months",
            "unknown",
        ),
    ),
    ("education", ("basic", "upper_secondary", "tertiary", "unknown")),
    ("earlier_services", ("none", "one_or_two", "three_or_more", "unknown")),
)
FEATURES: tuple[str, ...] = (
    "intercept",
    *(f"{band}={level}" for band, levels in BANDS for level in levels),
)

FloatArray = npt.NDArray[np.float64]


def design_matrix(records: Sequence[OutcomeRecord]) -> FloatArray:
    """Intercept and one column per band level (ridge keeps the full set identifiable)."""
    x = np.zeros((len(records), len(FEATURES)), dtype=np.float64)
    x[:, 0] = 1.0
    column = {name: i for i, name in enumerate(FEATURES)}
    for i, r in enumerate(records):
        got = {
            "holder_kind": r.holder_kind,
            "unemployment": r.profile.unemployment,
            "education": r.profile.education,
            "earlier_services": r.profile.earlier_services,
        }
        for band, levels in BANDS:
            level = got[band] if got[band] in levels else levels[-1]
            x[i, column[f"{band}={level}"]] = 1.0
    return x


def fit_logistic(x: FloatArray, y: FloatArray, *, ridge: float = RIDGE) -> FloatArray:
    """Coefficients by iteratively reweighted least squares with an L2 penalty: ``ridge`` on
    the band coefficients toward 0, ``INTERCEPT_RIDGE`` on the intercept toward the logit of
    the smoothed success rate ((successes + ½) ÷ (n + 1)), which keeps a group where nobody
    (or everybody) succeeded from expecting exactly 0 (or 1)."""
    p_count = x.shape[1]
    penalty = np.eye(p_count) * ridge
    penalty[0, 0] = INTERCEPT_RIDGE
    rate = (float(y.sum()) + 0.5) / (len(y) + 1.0)
    target = np.zeros(p_count)
    target[0] = math.log(rate / (1.0 - rate))
    beta = target.copy()
    for _ in range(50):
        mu = expit(x @ beta)
        w = mu * (1.0 - mu)
        hessian = (x.T * w) @ x + penalty + np.eye(p_count) * 1e-9
        gradient = x.T @ (y - mu) - penalty @ (beta - target)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    return beta


def expit(z: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0))), dtype=np.float64)


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    phat = successes / n
    denom = 1.0 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def publish_figures(
    records: Iterable[OutcomeRecord],
    *,
    window_end: date,
    window_days: int = WINDOW_DAYS,
    min_starts: int = MIN_STARTS,
) -> Publication:
    """Figures of every provider × service type × region from the definitive outcomes of
    vouchers started in [window_end − window_days, window_end)."""
    window_start = window_end - timedelta(days=window_days)
    used = sorted(
        (r for r in records if r.outcome is not None and window_start <= r.started_on < window_end),
        key=lambda r: r.voucher_id,
    )
    digest = hashlib.sha256(f"{METHOD_VERSION}|{window_start}|{window_end}|{min_starts}".encode())
    for r in used:
        digest.update(f"|{r.voucher_id}:{r.provider_id}:{r.outcome}".encode())
    publication_id = digest.hexdigest()[:16]

    by_group: dict[tuple[str, str], list[OutcomeRecord]] = defaultdict(list)
    for r in used:
        by_group[(r.region, r.service_type)].append(r)
    groups: list[ComparisonGroup] = []
    figures: list[OutcomeFigure] = []
    for (region, service_type), rows in sorted(by_group.items()):
        x = design_matrix(rows)
        y = np.fromiter((1.0 if r.outcome in SUCCESS else 0.0 for r in rows), np.float64)
        beta = fit_logistic(x, y)
        expected = expit(x @ beta)
        groups.append(
            ComparisonGroup(
                region=region,
                service_type=service_type,
                coefficients=tuple(
                    (n, round(float(b), 6)) for n, b in zip(FEATURES, beta, strict=True)
                ),
                record_ids=tuple(r.voucher_id for r in rows),
                starts=len(rows),
                actual_rate=float(y.mean()),
                expected_rate=float(expected.mean()),
                expected_sd=float(expected.std()),
            )
        )
        by_provider: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            by_provider[r.provider_id].append(i)
        for provider_id, idx in sorted(by_provider.items()):
            figures.append(
                _figure(
                    provider_id, service_type, region, y[idx], expected[idx],
                    min_starts=min_starts, window=(window_start, window_end),
                    publication_id=publication_id,
                )
            )  # fmt: skip
    return Publication(
        publication_id=publication_id,
        method_version=METHOD_VERSION,
        window_start=window_start,
        window_end=window_end,
        min_starts=min_starts,
        groups=tuple(groups),
        figures=tuple(figures),
    )


def _figure(
    provider_id: str,
    service_type: str,
    region: str,
    actual: FloatArray,
    expected: FloatArray,
    *,
    min_starts: int,
    window: tuple[date, date],
    publication_id: str,
) -> OutcomeFigure:
    n = len(actual)
    shown = n >= min_starts
    a = float(actual.sum())
    e = float(expected.sum())
    low, high = wilson(a, n)
    return OutcomeFigure(
        provider_id=provider_id,
        service_type=service_type,
        region=region,
        starts=n,
        shown=shown,
        actual_rate=round(a / n, 4) if shown else None,
        expected_rate=round(e / n, 4) if shown else None,
        ratio=round((a + PRIOR_EXPECTED) / (e + PRIOR_EXPECTED), 4) if shown else None,
        ratio_low=round(low * n / e, 4) if shown else None,
        ratio_high=round(high * n / e, 4) if shown else None,
        window_start=window[0],
        window_end=window[1],
        publication_id=publication_id,
    )


def creaming_signals(publication: Publication) -> list[CreamingSignal]:
    """Providers whose holders' expected outcome is far above their region's mix: at least
    ``CREAMING_MIN_DIFFERENCE`` higher and ``CREAMING_MIN_Z`` standard errors of a random
    draw of as many of the region's holders. Only figures that are shown are judged."""
    group = {(g.region, g.service_type): g for g in publication.groups}
    out: list[CreamingSignal] = []
    for f in publication.figures:
        if not f.shown or f.expected_rate is None:
            continue
        g = group[(f.region, f.service_type)]
        difference = f.expected_rate - g.expected_rate
        se = g.expected_sd / math.sqrt(f.starts) if g.expected_sd > 0 else float("inf")
        z = difference / se if se != float("inf") else 0.0
        if difference >= CREAMING_MIN_DIFFERENCE and z >= CREAMING_MIN_Z:
            out.append(
                CreamingSignal(
                    provider_id=f.provider_id,
                    service_type=f.service_type,
                    region=f.region,
                    starts=f.starts,
                    provider_expected_rate=f.expected_rate,
                    region_expected_rate=round(g.expected_rate, 4),
                    difference=round(difference, 4),
                    z=round(z, 2),
                    publication_id=publication.publication_id,
                )
            )
    return out
