"""Offerings kept by region × service type, so ranking one voucher reads only its bucket."""

from __future__ import annotations

from collections.abc import Iterable

from services.matching.domain.ranking import OfferingBucket
from services.matching.domain.types import OfferingView


class OfferingIndex:
    """Offerings by (region, service_type); ``put`` replaces an offering by id (also when it
    moved to another bucket), ``remove`` drops it. A bucket is a tuple built on first read
    after a change (with the columns ``score.recommend`` reads, built on its first call), so
    reads in a row cost nothing."""

    def __init__(self, offerings: Iterable[OfferingView] = ()) -> None:
        self._where: dict[str, tuple[str, str]] = {}
        self._buckets: dict[tuple[str, str], dict[str, OfferingView]] = {}
        self._frozen: dict[tuple[str, str], OfferingBucket] = {}
        for o in offerings:
            self.put(o)

    def put(self, offering: OfferingView) -> None:
        key = (offering.region, offering.service_type)
        old = self._where.get(offering.offering_id)
        if old is not None and old != key:
            self._buckets[old].pop(offering.offering_id, None)
            self._frozen.pop(old, None)
        self._buckets.setdefault(key, {})[offering.offering_id] = offering
        self._where[offering.offering_id] = key
        self._frozen.pop(key, None)

    def remove(self, offering_id: str) -> None:
        key = self._where.pop(offering_id, None)
        if key is not None:
            self._buckets[key].pop(offering_id, None)
            self._frozen.pop(key, None)

    def bucket(self, region: str, service_type: str) -> OfferingBucket:
        """The bucket's offerings as a tuple that keeps its columns for ranking."""
        key = (region, service_type)
        got = self._frozen.get(key)
        if got is None:
            got = OfferingBucket(self._buckets.get(key, {}).values())
            self._frozen[key] = got
        return got

    def offerings(self) -> list[OfferingView]:
        return [o for bucket in self._buckets.values() for o in bucket.values()]

    def __len__(self) -> int:
        return len(self._where)
