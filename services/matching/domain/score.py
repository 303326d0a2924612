"""Which offerings a voucher may choose, and how they rank (score version ``SCORE_VERSION``).

The score is whole points: each factor has a value in −1..1 (rounded to 4 decimals) and a
weight; its contribution is ``round(weight × value)``, and the score is the sum of the
contributions, exactly. Equal scores are ordered by a rotation key the caller varies per call
(a hash of the key and the offering id), so equal providers get equal first places over many
calls; never by name or id. The holder's profile bands, age, sex, origin or health are not read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from services.matching.domain.types import (
    Excluded,
    ExclusionReason,
    Factor,
    OfferingView,
    OutcomeFigure,
    Ranked,
    RatingSummary,
    Recommendation,
    VoucherView,
)

SCORE_VERSION = "2026-12.1"

# factor name -> points at value 1 (the order is the order of the factors in every result)
WEIGHTS: dict[str, int] = {
    "outcome": 400,
    "rating": 200,
    "distance": 150,
    "language": 100,
    "co_payment": 150,
    "next_start": 100,
}
RATING_PRIOR_COUNT = 10  # a provider's mean rating weighs like this many ratings at the region mean
OUTCOME_RATIO_SPAN = 0.5  # a ratio of 1.5 (or 0.5) is the factor's full value
NEXT_START_HORIZON_DAYS = 180  # a start this far away (or none known) adds nothing
DISTANCE_VALUES = {"same_municipality": 1.0, "same_region": 0.5, "remote": 0.0}

_NAMES = tuple(WEIGHTS)
_W = tuple(WEIGHTS.values())


def exclusion_reason(voucher: VoucherView, offering: OfferingView) -> ExclusionReason | None:
    """The first eligibility rule the offering fails for the voucher, or None if eligible."""
    if offering.region != voucher.region:
        return ExclusionReason.other_region
    if offering.service_type != voucher.service_type:
        return ExclusionReason.wrong_service_type
    if not offering.approved:
        return ExclusionReason.not_approved
    if offering.open_places <= 0:
        return ExclusionReason.full
    if distance_class(voucher, offering) is None:
        return ExclusionReason.not_in_area
    if voucher.languages and not set(voucher.languages).intersection(offering.languages):
        return ExclusionReason.wrong_language
    return None


def distance_class(voucher: VoucherView, offering: OfferingView) -> str | None:
    """same_municipality | same_region | remote, or None when the offering is out of reach.

    An offering is in reach in the holder's home municipality, or remotely when remote suits
    the holder; a holder without a home municipality can take any of the region's offerings."""
    home = voucher.home_municipality
    if home is not None and home in offering.municipalities:
        return "same_municipality"
    if home is None and offering.municipalities:
        return "same_region"
    if offering.remote and voucher.remote_suits:
        return "remote"
    return None


def region_rating_mean(ratings: Iterable[RatingSummary]) -> float:
    """The count-weighted mean rating, the point every provider's mean is pulled toward."""
    total = 0.0
    count = 0
    for r in ratings:
        total += r.mean * r.count
        count += r.count
    return total / count if count else 3.0


def _clamp(x: float) -> float:
    return -1.0 if x < -1.0 else 1.0 if x > 1.0 else x


def factor_values(
    voucher: VoucherView,
    offering: OfferingView,
    figure: OutcomeFigure | None,
    rating: RatingSummary | None,
    *,
    rating_prior: float,
    today: date,
    distance: str,
) -> tuple[float, ...]:
    """The factors' values in −1..1, in the order of ``WEIGHTS``, rounded to 4 decimals."""
    outcome = 0.0  # neutral when no figure is shown
    if (
        figure is not None
        and figure.shown
        and figure.ratio is not None
        and figure.region == offering.region
        and figure.service_type == offering.service_type
    ):
        outcome = _clamp((figure.ratio - 1.0) / OUTCOME_RATIO_SPAN)
    rating_value = 0.0
    if rating is not None and rating.count > 0:
        shrunk = (rating.count * rating.mean + RATING_PRIOR_COUNT * rating_prior) / (
            rating.count + RATING_PRIOR_COUNT
        )
        rating_value = _clamp(shrunk - rating_prior)
    if not voucher.languages:
        language = 0.5
    else:
        language = 1.0 if voucher.languages[0] in offering.languages else 0.5
    co_payment = max(0, offering.price_cents - voucher.value_cents)
    co_value = -min(1.0, co_payment / voucher.value_cents) if voucher.value_cents > 0 else 0.0
    if offering.next_start is None:
        start_value = 0.0
    else:
        days = max(0, (offering.next_start - today).days)
        start_value = max(0.0, 1.0 - days / NEXT_START_HORIZON_DAYS)
    return (
        round(outcome, 4),
        round(rating_value, 4),
        DISTANCE_VALUES[distance],
        language,
        round(co_value, 4),
        round(start_value, 4),
    )


def contributions(values: Sequence[float]) -> tuple[int, ...]:
    return tuple(round(w * v) for w, v in zip(_W, values, strict=True))


def rotation_order(rotation_key: int, offering_id: str) -> int:
    """Where an offering stands among equal scores for this rotation key."""
    digest = hashlib.blake2b(
        f"{rotation_key}:{offering_id}".encode(), digest_size=8, person=b"seteli-rot"
    ).digest()
    return int.from_bytes(digest, "big")


@dataclass(slots=True)
class _Scored:
    offering: OfferingView
    values: tuple[float, ...]
    parts: tuple[int, ...]
    score: int


def recommend(
    voucher: VoucherView,
    offerings: Iterable[OfferingView],
    figures: Mapping[str, OutcomeFigure],
    ratings: Mapping[str, RatingSummary],
    *,
    today: date,
    rotation_key: int,
    limit: int | None = None,
    rating_prior: float | None = None,
) -> Recommendation:
    """Rank the eligible offerings for one voucher and tell why the others are left out.

    ``figures`` and ``ratings`` are keyed by provider id (the voucher's region and service
    type). ``offerings`` may be everything or only the voucher's bucket of an
    :class:`~services.matching.domain.index.OfferingIndex`; offerings of other regions or
    service types are listed as excluded only when passed. ``limit`` cuts ``ranked`` (the
    factors are built only for what is returned); ``rating_prior`` saves computing the region
    mean from ``ratings`` on every call."""
    prior = region_rating_mean(ratings.values()) if rating_prior is None else rating_prior
    scored: list[_Scored] = []
    excluded: list[Excluded] = []
    for o in offerings:
        reason = exclusion_reason(voucher, o)
        if reason is not None:
            excluded.append(Excluded(o.offering_id, o.provider_id, reason))
            continue
        distance = distance_class(voucher, o)
        assert distance is not None  # eligible offerings are in reach
        values = factor_values(
            voucher,
            o,
            figures.get(o.provider_id),
            ratings.get(o.provider_id),
            rating_prior=prior,
            today=today,
            distance=distance,
        )
        parts = contributions(values)
        scored.append(_Scored(o, values, parts, sum(parts)))
    ordered = _rotate_ties(scored, rotation_key)
    shown = ordered if limit is None else ordered[:limit]
    ranked = tuple(
        Ranked(
            offering_id=s.offering.offering_id,
            provider_id=s.offering.provider_id,
            score=s.score,
            factors=tuple(
                Factor(n, v, w, c) for n, v, w, c in zip(_NAMES, s.values, _W, s.parts, strict=True)
            ),
        )
        for s in shown
    )
    return Recommendation(
        voucher_id=voucher.voucher_id,
        ranked=ranked,
        excluded=tuple(excluded),
        score_version=SCORE_VERSION,
        data_as_of=today,
        eligible_count=len(scored),
    )


def _rotate_ties(scored: list[_Scored], rotation_key: int) -> list[_Scored]:
    """Best score first; within equal scores, the rotation order (hashes only for ties)."""
    scored.sort(key=lambda s: -s.score)
    out: list[_Scored] = []
    i = 0
    n = len(scored)
    while i < n:
        j = i + 1
        while j < n and scored[j].score == scored[i].score:
            j += 1
        if j - i == 1:
            out.append(scored[i])
        else:
            tie = scored[i:j]
            tie.sort(key=lambda s: rotation_order(rotation_key, s.offering.offering_id))
            out.extend(tie)
        i = j
    return out
