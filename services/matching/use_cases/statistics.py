"""Outcome statistics: publishing them (risk-adjusted figures per provider × service type ×
region from the definitive outcomes in the read model, ``domain.outcomes.publish_figures``),
reading the published figures (public) and the creaming signals (a region's admins)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from kit.db import Database
from services.matching import access, repository
from services.matching.domain.outcomes import (
    MIN_STARTS,
    WINDOW_DAYS,
    creaming_signals,
    publish_figures,
)
from services.matching.domain.types import OutcomeFigure
from services.matching.models import StatisticsPublication
from services.matching.schemas import (
    CreamingList,
    CreamingOut,
    FigureOut,
    PublicationOut,
    RatingList,
    RatingOut,
    StatisticsList,
)
from services.matching.use_cases import views
from services.matching.use_cases.clock import now, today

# Grows when this process stores a publication: the index reads the new figures.
GENERATION = [0]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _figure(d: dict[str, Any]) -> OutcomeFigure:
    return OutcomeFigure(**(d | {"window_start": date.fromisoformat(d["window_start"]),
                                 "window_end": date.fromisoformat(d["window_end"])}))


async def figures_of(s: AsyncSession, region: str) -> list[OutcomeFigure]:
    pub = await repository.latest_publication(s)
    if pub is None:
        return []
    return [_figure(f) for f in pub.body.get("figures", []) if f["region"] == region]


async def publish(db: Database, *, window_end: date | None = None) -> PublicationOut:
    """Compute and store a publication from every started voucher of the window."""
    end = window_end or today()
    async with db.reader() as s:
        rows = await repository.started_vouchers(s, end - timedelta(days=WINDOW_DAYS))
        records = [r for r in (views.outcome_record(v) for v in rows) if r is not None]
    pub = publish_figures(records, window_end=end)
    signals = creaming_signals(pub)
    body = _jsonable({"figures": [asdict(f) for f in pub.figures],
                      "groups": [asdict(g) for g in pub.groups],
                      "creaming": [asdict(c) for c in signals]})
    async with db.session() as s:
        row = StatisticsPublication(publication_id=pub.publication_id,
                                    method_version=pub.method_version,
                                    window_start=pub.window_start, window_end=pub.window_end,
                                    created_at=now(), body=body)
        s.add(row)
        await s.commit()
    GENERATION[0] += 1
    return _publication_out(row)


def _publication_out(row: StatisticsPublication) -> PublicationOut:
    return PublicationOut(publication_id=row.publication_id, method_version=row.method_version,
                          window_start=row.window_start, window_end=row.window_end,
                          min_starts=MIN_STARTS, published_at=row.created_at,
                          groups=len(row.body.get("groups", [])),
                          figures=len(row.body.get("figures", [])))


def _figure_out(f: dict[str, Any]) -> FigureOut:
    shown = bool(f["shown"])
    return FigureOut(
        provider_id=f["provider_id"], service_type=f["service_type"], region=f["region"],
        too_few_participants=not shown, starts=f["starts"] if shown else None,
        actual_rate=f["actual_rate"] if shown else None,
        expected_rate=f["expected_rate"] if shown else None,
        ratio=f["ratio"] if shown else None, ratio_low=f["ratio_low"] if shown else None,
        ratio_high=f["ratio_high"] if shown else None)


async def read(db: Database, region: str | None, service_type: str | None,
               providers: frozenset[str] | None = None) -> StatisticsList:
    async with db.reader() as s:
        pub = await repository.latest_publication(s)
    if pub is None:
        return StatisticsList(publication=None, items=[])
    items = [_figure_out(f) for f in pub.body.get("figures", [])
             if (region is None or f["region"] == region)
             and (service_type is None or f["service_type"] == service_type)
             and (providers is None or f["provider_id"] in providers)]
    return StatisticsList(publication=_publication_out(pub), items=items)


# Below this many ratings no mean is shown: one holder's stars are not published on their own.
MIN_RATINGS_SHOWN = 3


async def ratings(db: Database, region: str, service_type: str | None,
                  providers: frozenset[str] | None = None) -> RatingList:
    """The providers' holder ratings in ``region`` (of ``service_type``, of ``providers``), as
    the score reads them: count and mean stars."""
    async with db.reader() as s:
        rows = await repository.ratings_in(s, region, service_type, providers)
    items = [RatingOut(provider_id=pid, service_type=st, region=region, count=n,
                       mean=round(mean, 1) if n >= MIN_RATINGS_SHOWN else None)
             for st, pid, n, mean in sorted(rows)
             if service_type is None or st == service_type]
    return RatingList(min_count=MIN_RATINGS_SHOWN, items=items)


async def creaming(db: Database, principal: Principal, region: str | None) -> CreamingList:
    own = access.admin_region(principal, region)
    async with db.reader() as s:
        pub = await repository.latest_publication(s)
    if pub is None:
        return CreamingList(publication=None, items=[])
    items = [CreamingOut.model_validate(c) for c in pub.body.get("creaming", [])
             if c["region"] == own]
    return CreamingList(publication=_publication_out(pub), items=items)
