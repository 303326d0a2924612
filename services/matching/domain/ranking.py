"""The score of every offering of a bucket at once (numpy), for ``score.recommend``.

The rules are those of ``score`` (eligibility in the same order, the same factor values and
rounding): values that depend on few distinct inputs (a provider's figure and ratings, a price,
a start date) are computed once per distinct input with the scalar rules and spread to the
offerings, so the vector path gives exactly the scalar one's points. What depends only on the
offerings (their regions, municipalities, languages, prices, starts, id hashes) is built once
per :class:`OfferingBucket` and kept with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from services.matching.domain.types import OfferingView, OutcomeFigure, RatingSummary

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: U64) -> U64:
    """splitmix64's finaliser: a well-spread 64-bit hash of a 64-bit value."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def id_hash(offering_id: str) -> int:
    digest = hashlib.blake2b(offering_id.encode(), digest_size=8, person=b"seteli-rot").digest()
    return int.from_bytes(digest, "big")


def rotation_values(hashes: U64, rotation_key: int) -> U64:
    """Where each offering stands among equal scores for this rotation key."""
    key = mix64(np.array([rotation_key & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    return mix64(hashes ^ key)


@dataclass
class BucketArrays:
    """Per-offering columns of a bucket, and the distinct values they index."""

    offerings: Sequence[OfferingView]
    region: npt.NDArray[np.object_]
    service_type: npt.NDArray[np.object_]
    approved: Bools
    open: Bools
    remote: Bools
    located: Bools  # has at least one municipality
    by_municipality: dict[str, Bools]
    by_language: dict[str, Bools]
    providers: list[str]  # distinct
    provider_of: I64
    prices: list[int]  # distinct
    price_of: I64
    starts: list[Any]  # distinct next_start dates (None included)
    start_of: I64
    hashes: U64
    # provider factor values for the last (figures, ratings, prior) read, kept by identity
    _provider_cache: tuple[Any, ...] | None = field(default=None, repr=False)
    # (values, points) per distinct price or start, by the input they were computed for
    _value_cache: dict[tuple[Any, ...], tuple[npt.NDArray[np.float64], I64]] = field(
        default_factory=dict, repr=False)

    @classmethod
    def build(cls, offerings: Sequence[OfferingView]) -> BucketArrays:
        n = len(offerings)
        by_m: dict[str, list[int]] = {}
        by_l: dict[str, list[int]] = {}
        for i, o in enumerate(offerings):
            for m in o.municipalities:
                by_m.setdefault(m, []).append(i)
            for lang in o.languages:
                by_l.setdefault(lang, []).append(i)

        def masks(where: dict[str, list[int]]) -> dict[str, Bools]:
            out = {}
            for key, idx in where.items():
                mask = np.zeros(n, dtype=bool)
                mask[idx] = True
                out[key] = mask
            return out

        def distinct(values: list[Any]) -> tuple[list[Any], I64]:
            seen: dict[Any, int] = {}
            of = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.int64, n)
            return list(seen), of

        providers, provider_of = distinct([o.provider_id for o in offerings])
        prices, price_of = distinct([o.price_cents for o in offerings])
        starts, start_of = distinct([o.next_start for o in offerings])
        return cls(
            offerings=offerings,
            region=np.array([o.region for o in offerings], dtype=object),
            service_type=np.array([o.service_type for o in offerings], dtype=object),
            approved=np.fromiter((o.approved for o in offerings), bool, n),
            open=np.fromiter((o.open_places > 0 for o in offerings), bool, n),
            remote=np.fromiter((o.remote for o in offerings), bool, n),
            located=np.fromiter((bool(o.municipalities) for o in offerings), bool, n),
            by_municipality=masks(by_m),
            by_language=masks(by_l),
            providers=providers,
            provider_of=provider_of,
            prices=prices,
            price_of=price_of,
            starts=starts,
            start_of=start_of,
            hashes=np.fromiter((id_hash(o.offering_id) for o in offerings), np.uint64, n),
        )

    def provider_values(
        self,
        figures: Mapping[str, OutcomeFigure],
        ratings: Mapping[str, RatingSummary],
        key: tuple[Any, ...],
        compute: Callable[[OutcomeFigure | None, RatingSummary | None], tuple[float, ...]],
    ) -> list[npt.NDArray[Any]]:
        """Per offering, the columns of ``compute(figure, rating)`` of its provider (computed
        once per distinct provider), kept while the same mapping objects and ``key`` (prior,
        region, service type) are passed: a caller that changes figures or ratings passes new
        mappings."""
        cached = self._provider_cache
        if (
            cached is not None
            and cached[0] is figures
            and cached[1] is ratings
            and cached[2] == key
        ):
            got: list[npt.NDArray[Any]] = cached[3]
            return got
        rows = [compute(figures.get(p), ratings.get(p)) for p in self.providers]
        columns = [np.array(col)[self.provider_of] for col in zip(*rows, strict=True)]
        self._provider_cache = (figures, ratings, key, columns)
        return columns


    def distinct_values(
        self, key: tuple[Any, ...], inputs: Sequence[Any], value: Callable[[Any], float],
        weight: int,
    ) -> tuple[npt.NDArray[np.float64], I64]:
        """``value(x)`` and its points ``round(weight × value)`` for each of ``inputs`` (the
        bucket's distinct prices or starts), kept under ``key`` (the factor and what else the
        value depends on: the voucher's value, the day) while the bucket lives; a few keys at
        most (vouchers of a service mostly have one value)."""
        got = self._value_cache.get(key)
        if got is None:
            vals = [value(x) for x in inputs]
            got = (np.array(vals, np.float64),
                   np.array([round(weight * v) for v in vals], np.int64))
            if len(self._value_cache) >= VALUE_CACHE_KEYS:
                self._value_cache.pop(next(iter(self._value_cache)))
            self._value_cache[key] = got
        return got


VALUE_CACHE_KEYS = 16


class OfferingBucket(tuple[OfferingView, ...]):
    """A tuple of offerings that keeps its :class:`BucketArrays` once built."""

    _arrays: BucketArrays | None = None

    @property
    def arrays(self) -> BucketArrays:
        if self._arrays is None:
            self._arrays = BucketArrays.build(self)
        return self._arrays


def arrays_of(offerings: Sequence[OfferingView]) -> BucketArrays:
    if isinstance(offerings, OfferingBucket):
        return offerings.arrays
    return BucketArrays.build(offerings)
