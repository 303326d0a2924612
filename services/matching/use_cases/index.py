"""The in-memory index of one service process: per region, the offerings by service type as
the ranking reads them, with the providers' published outcome figures and ratings. A region is
rebuilt from the read model only when a committed event changed it (its generation in
``repository.GENERATIONS`` grew) or a new statistics publication appeared, so a request reads
one bucket of plain values and the cost of ranking does not grow with the whole register.

Replicas of the service share the durable consumers, so a replica does not apply (and does not
hear of) every event: at most every ``MAX_AGE`` seconds a region's stored generation and the
latest publication are read (two indexed lookups) and the region is rebuilt if either moved,
so a replica lags at most that long behind another's changes, and an unchanged region is
never rebuilt (a rebuild reads every offering of the region: a request that paid for it would
cost more the larger the register)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import repository
from services.matching.domain.index import OfferingIndex
from services.matching.domain.ranking import OfferingBucket
from services.matching.domain.score import region_rating_mean
from services.matching.domain.types import OutcomeFigure, RatingSummary
from services.matching.use_cases import statistics as publication
from services.matching.use_cases import views

MAX_AGE = 2.0


@dataclass(frozen=True)
class Bucket:
    """What ranking a voucher of one region × service type needs."""

    offerings: OfferingBucket
    figures: dict[str, OutcomeFigure]
    ratings: dict[str, RatingSummary]
    rating_prior: float
    titles: dict[str, dict[str, str]]
    names: dict[str, str]


@dataclass
class _Region:
    generation: int
    publication: int
    stored: tuple[int, int]  # repository.region_state when built
    built_on: date
    checked_at: float
    index: OfferingIndex
    figures: dict[str, dict[str, OutcomeFigure]]
    ratings: dict[str, dict[str, RatingSummary]]
    titles: dict[str, dict[str, str]]
    names: dict[str, str]
    buckets: dict[str, Bucket] = field(default_factory=dict)


class RegionIndex:
    def __init__(self) -> None:
        self._regions: dict[str, _Region] = {}
        self._lock = asyncio.Lock()

    async def bucket(self, s: AsyncSession, region: str, service_type: str,
                     today: date) -> Bucket:
        r = self._regions.get(region)
        if r is not None and not _changed(r, region, today) \
                and time.monotonic() - r.checked_at > MAX_AGE \
                and await repository.region_state(s, region) == r.stored:
            r.checked_at = time.monotonic()  # nobody changed it: keep it
        if _stale(r, region, today):
            async with self._lock:
                r = self._regions.get(region)
                if r is None or _stale(r, region, today):
                    r = await self._build(s, region, today)
                    self._regions[region] = r
        assert r is not None
        return _bucket_of(r, region, service_type)

    async def _build(self, s: AsyncSession, region: str, today: date) -> _Region:
        generation = repository.GENERATIONS[region]
        pub_generation = publication.GENERATION[0]
        stored = await repository.region_state(s, region)
        accs = {a.provider_id: a for a in await repository.accreditations_in(s, region)}
        index = OfferingIndex()
        titles: dict[str, dict[str, str]] = {}
        for row in await repository.offerings_of(s, region, None):
            if row.status != "published":
                continue
            index.put(views.offering(row, views.approved(accs.get(row.provider_id), today)))
            titles[row.offering_id] = row.title
        ratings: defaultdict[str, dict[str, RatingSummary]] = defaultdict(dict)
        for st, pid, n, mean in await repository.ratings_in(s, region):
            ratings[st][pid] = RatingSummary(provider_id=pid, count=n, mean=mean)
        figures: defaultdict[str, dict[str, OutcomeFigure]] = defaultdict(dict)
        for f in await publication.figures_of(s, region):
            figures[f.service_type][f.provider_id] = f
        names = await repository.provider_names(s, sorted(accs))
        built = _Region(generation, pub_generation, stored, today, time.monotonic(), index,
                        dict(figures), dict(ratings), titles, names)
        # Every bucket's columns now, once per build: not by the first requests after it.
        for service_type in sorted({o.service_type for o in index.offerings()}):
            _ = _bucket_of(built, region, service_type).offerings.arrays
        return built


def _bucket_of(r: _Region, region: str, service_type: str) -> Bucket:
    got = r.buckets.get(service_type)
    if got is None:
        ratings = r.ratings.get(service_type, {})
        got = Bucket(offerings=r.index.bucket(region, service_type),
                     figures=r.figures.get(service_type, {}), ratings=ratings,
                     rating_prior=region_rating_mean(ratings.values()), titles=r.titles,
                     names=r.names)
        r.buckets[service_type] = got
    return got


def _changed(r: _Region, region: str, today: date) -> bool:
    """Changed in this process, or a new day."""
    return (r.generation != repository.GENERATIONS[region]
            or r.publication != publication.GENERATION[0] or r.built_on != today)


def _stale(r: _Region | None, region: str, today: date) -> bool:
    return (r is None or _changed(r, region, today)
            or time.monotonic() - r.checked_at > MAX_AGE)


def region_index(extra: dict[str, Any]) -> RegionIndex:
    """The process's index (kept in the runtime's ``extra``)."""
    got = extra.get("region_index")
    if got is None:
        got = extra["region_index"] = RegionIndex()
    assert isinstance(got, RegionIndex)
    return got
