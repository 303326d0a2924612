"""Which offerings a voucher may choose, and how they rank (score version ``SCORE_VERSION``).

The score is whole points: each factor has a value in −1..1 (rounded to 4 decimals) and a
weight; its contribution is ``round(weight × value)``, and the score is the sum of the
contributions, exactly. Equal scores are ordered by a rotation key the caller chooses (a hash
of the key and the offering id): the service keys it by the voucher (``holder_rotation_key``),
so one holder's order stays put from page to page while over many holders equal providers get
equal first places; a default-assignment run keys it by its seed. Never by name or id. The
holder's profile bands, age, sex, origin or health are not read.

The rules are written once per offering (``exclusion_reason``, ``distance_class`` and the
``*_value`` functions); ``recommend`` applies them to a whole bucket at once (``ranking``),
and a unit test checks that it agrees with them offering by offering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import numpy as np
import numpy.typing as npt

from services.matching.domain.ranking import arrays_of, id_hash, rotation_values
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
_SCORE_OFFSET = 2048  # scores lie within ±sum(weights), so OFFSET − score fits in 12 bits
assert sum(_W) < _SCORE_OFFSET
_REASONS = tuple(ExclusionReason)  # in the order the rules are tried


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


def outcome_value(figure: OutcomeFigure | None, region: str, service_type: str) -> float:
    """(ratio − 1) ÷ 0.5 within −1..1; 0 (neutral) when no figure is shown."""
    if (
        figure is None
        or not figure.shown
        or figure.ratio is None
        or figure.region != region
        or figure.service_type != service_type
    ):
        return 0.0
    return round(_clamp((figure.ratio - 1.0) / OUTCOME_RATIO_SPAN), 4)


def rating_value(rating: RatingSummary | None, prior: float) -> float:
    """The mean rating pulled toward the region's mean by ``RATING_PRIOR_COUNT`` ratings,
    less the region's mean (1 star = the whole value); 0 without ratings."""
    if rating is None or rating.count <= 0:
        return 0.0
    shrunk = (rating.count * rating.mean + RATING_PRIOR_COUNT * prior) / (
        rating.count + RATING_PRIOR_COUNT
    )
    return round(_clamp(shrunk - prior), 4)


def language_value(voucher: VoucherView, offering_languages: Iterable[str]) -> float:
    """1 when the holder's first language is offered, 0.5 for another shared language."""
    if not voucher.languages:
        return 0.5
    return 1.0 if voucher.languages[0] in offering_languages else 0.5


def co_payment_value(price_cents: int, value_cents: int) -> float:
    """−(what the holder pays above the voucher ÷ the voucher's value), down to −1."""
    co_payment = max(0, price_cents - value_cents)
    return round(-min(1.0, co_payment / value_cents), 4) if value_cents > 0 else 0.0


def next_start_value(next_start: date | None, today: date) -> float:
    """1 for a start today (or already rolling), falling to 0 at 180 days or none known."""
    if next_start is None:
        return 0.0
    days = max(0, (next_start - today).days)
    return round(max(0.0, 1.0 - days / NEXT_START_HORIZON_DAYS), 4)


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
    """One eligible offering's factor values in the order of ``WEIGHTS``."""
    return (
        outcome_value(figure, voucher.region, voucher.service_type),
        rating_value(rating, rating_prior),
        DISTANCE_VALUES[distance],
        language_value(voucher, offering.languages),
        co_payment_value(offering.price_cents, voucher.value_cents),
        next_start_value(offering.next_start, today),
    )


def contributions(values: Sequence[float]) -> tuple[int, ...]:
    return tuple(round(w * v) for w, v in zip(_W, values, strict=True))


def holder_rotation_key(voucher_id: str) -> int:
    """The rotation key of one voucher's ranking: a hash of its id, the same on every request
    (so pages continue each other) and spread evenly over vouchers (so over many holders each
    of several equal offerings is first equally often)."""
    digest = hashlib.blake2b(voucher_id.encode(), digest_size=8, person=b"seteli-holder")
    return int.from_bytes(digest.digest(), "big") >> 1


def rotation_order(rotation_key: int, offering_id: str) -> int:
    """Where an offering stands among equal scores for this rotation key (lower first)."""
    hashes = np.array([id_hash(offering_id)], dtype=np.uint64)
    return int(rotation_values(hashes, rotation_key)[0])


def recommend(
    voucher: VoucherView,
    offerings: Sequence[OfferingView],
    figures: Mapping[str, OutcomeFigure],
    ratings: Mapping[str, RatingSummary],
    *,
    today: date,
    rotation_key: int,
    limit: int | None = None,
    rating_prior: float | None = None,
    excluded_limit: int | None = None,
    offset: int = 0,
    excluded_follow: bool = False,
) -> Recommendation:
    """Rank the eligible offerings for one voucher and tell why the others are left out.

    ``figures`` and ``ratings`` are keyed by provider id (the voucher's region and service
    type). ``offerings`` may be any sequence, best the voucher's bucket of an
    :class:`~services.matching.domain.index.OfferingIndex`: that bucket keeps its columns
    between calls, and its providers' factor values while the same ``figures`` and
    ``ratings`` objects are passed (pass new mappings when they change). Offerings of other
    regions or service types are listed as excluded only when passed. ``limit`` cuts
    ``ranked`` to the ``limit`` from ``offset`` on, and ``excluded_limit`` ``excluded`` (the
    first ones in the order given; the counts cover all). With ``excluded_follow`` the excluded
    continue the ranked list instead: the ranked then the excluded read as one list, of which
    ``ranked`` and ``excluded`` are together the ``limit`` from ``offset`` on (a page).
    ``rating_prior`` saves computing the region mean from ``ratings``."""
    offset = max(offset, 0)
    prior = region_rating_mean(ratings.values()) if rating_prior is None else rating_prior
    arr = arrays_of(offerings)
    n = len(arr.offerings)
    none = np.zeros(n, dtype=bool)
    home = voucher.home_municipality
    in_home = arr.by_municipality.get(home, none) if home is not None else none
    in_region = arr.located if home is None else none
    reach = in_home | in_region | (arr.remote & voucher.remote_suits)
    if voucher.languages:
        speaks = none.copy()
        for lang in voucher.languages:
            speaks |= arr.by_language.get(lang, none)
    else:
        speaks = ~none
    failed = [
        arr.region != voucher.region,
        arr.service_type != voucher.service_type,
        ~arr.approved,
        ~arr.open,
        ~reach,
        ~speaks,
    ]
    code = np.select(failed, list(range(len(failed))), default=-1)
    eligible = np.flatnonzero(code < 0)

    per_provider = arr.provider_values(
        figures,
        ratings,
        (prior, voucher.region, voucher.service_type),
        lambda f, r: _with_points(
            (outcome_value(f, voucher.region, voucher.service_type), rating_value(r, prior))
        ),
    )
    value_cols: list[npt.NDArray[np.float64]] = []
    point_cols: list[npt.NDArray[np.int64]] = []
    if arr.providers:
        for j in (0, 1):  # outcome, rating
            value_cols.append(per_provider[j][eligible].astype(np.float64))
            point_cols.append(per_provider[j + 2][eligible].astype(np.int64))
    else:
        value_cols += [np.zeros(0), np.zeros(0)]
        point_cols += [np.zeros(0, np.int64), np.zeros(0, np.int64)]
    distance = np.where(in_home[eligible], 1.0, np.where(in_region[eligible], 0.5, 0.0))
    if voucher.languages:
        first_language = arr.by_language.get(voucher.languages[0], none)[eligible]
        language = np.where(first_language, 1.0, 0.5)
    else:
        language = np.full(eligible.size, 0.5)
    for col, w in ((distance, _W[2]), (language, _W[3])):
        value_cols.append(col)
        point_cols.append(np.rint(col * w).astype(np.int64))  # as round(): half to even
    value_cents = voucher.value_cents
    co = arr.distinct_values(
        ("co_payment", value_cents), arr.prices, lambda p: co_payment_value(p, value_cents), _W[4]
    )
    start = arr.distinct_values(
        ("next_start", today), arr.starts, lambda d: next_start_value(d, today), _W[5]
    )
    for (vals, pts), of in ((co, arr.price_of), (start, arr.start_of)):
        value_cols.append(vals[of[eligible]])
        point_cols.append(pts[of[eligible]])
    score = np.zeros(eligible.size, np.int64)
    for col in point_cols:
        score += col

    rot = rotation_values(arr.hashes[eligible], rotation_key)
    order_key = ((_SCORE_OFFSET - score).astype(np.uint64) << np.uint64(52)) | (
        rot >> np.uint64(12)
    )
    if offset >= eligible.size or (limit is not None and limit <= 0):
        top = np.zeros(0, np.int64)
    elif limit is not None and offset + limit < eligible.size:
        end = offset + limit
        top = np.argpartition(order_key, end - 1)[:end]
        top = top[np.argsort(order_key[top], kind="stable")][offset:]
    else:
        top = np.argsort(order_key, kind="stable")[offset:]
    # only the returned offerings' rows
    values = np.stack([c[top] for c in value_cols], axis=1) if top.size else np.zeros((0, 6))
    points = np.stack([c[top] for c in point_cols], axis=1) if top.size else np.zeros((0, 6))
    ranked = []
    for row, i in enumerate(top.tolist()):
        o = arr.offerings[int(eligible[i])]
        v_row = values[row].tolist()
        p_row = points[row].tolist()
        ranked.append(
            Ranked(
                offering_id=o.offering_id,
                provider_id=o.provider_id,
                score=int(score[i]),
                factors=tuple(
                    Factor(nm, v, w, c)
                    for nm, v, w, c in zip(_NAMES, v_row, _W, p_row, strict=True)
                ),
            )
        )
    out = np.flatnonzero(code >= 0)
    counts = np.bincount(code[out], minlength=len(_REASONS))
    if excluded_follow:
        first = max(offset - int(eligible.size), 0)
        listed = out[first:] if limit is None else out[first : first + max(limit - top.size, 0)]
    else:
        listed = out if excluded_limit is None else out[: max(excluded_limit, 0)]
    excluded = tuple(
        Excluded(arr.offerings[i].offering_id, arr.offerings[i].provider_id, _REASONS[c])
        for i, c in zip(listed.tolist(), code[listed].tolist(), strict=True)
    )
    return Recommendation(
        voucher_id=voucher.voucher_id,
        ranked=tuple(ranked),
        excluded=excluded,
        score_version=SCORE_VERSION,
        data_as_of=today,
        eligible_count=int(eligible.size),
        excluded_count=int(out.size),
        excluded_by_reason=tuple(
            (r.value, int(c)) for r, c in zip(_REASONS, counts.tolist(), strict=True) if c
        ),
    )


def _with_points(values: tuple[float, float]) -> tuple[float, ...]:
    """(outcome, rating) values followed by their whole points."""
    return (*values, *(round(w * v) for w, v in zip(_W[:2], values, strict=True)))
