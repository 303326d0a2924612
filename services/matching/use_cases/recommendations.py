"""Recommendations for one voucher: its eligible offerings ranked by the versioned score
(``domain.score.recommend``) with every factor's value and contribution, and the excluded ones
with their reason. For the voucher's holder and its region's admins; anyone else is told the
voucher does not exist."""

from __future__ import annotations

from typing import Any

from contracts.principal import Principal
from kit.db import Database
from services.matching import access, repository
from services.matching.domain.score import holder_rotation_key, recommend
from services.matching.schemas import ExcludedOut, FactorOut, RankedOut, RecommendationOut
from services.matching.use_cases import views
from services.matching.use_cases.clock import today
from services.matching.use_cases.index import region_index


async def for_voucher(db: Database, extra: dict[str, Any], principal: Principal,
                      voucher_id: str, limit: int, offset: int = 0) -> RecommendationOut:
    """The ranking from ``offset`` on, up to ``limit`` results; the excluded continue it (the
    ranked then the excluded are one list, paged by ``offset`` and ``limit``)."""
    day = today()
    async with db.reader() as s:
        v = access.visible_voucher(principal, await repository.voucher(s, voucher_id))
        bucket = await region_index(extra).bucket(s, v.region, v.service_type, day)
        # The voucher's own rotation: the same order on every page for this holder; over
        # many holders equal scores share first places.
        rec = recommend(views.voucher(v), bucket.offerings, bucket.figures, bucket.ratings,
                        today=day, rotation_key=holder_rotation_key(v.voucher_id),
                        limit=limit, offset=offset, excluded_follow=True,
                        rating_prior=bucket.rating_prior)
    return RecommendationOut(
        voucher_id=v.voucher_id, score_version=rec.score_version, data_as_of=rec.data_as_of,
        eligible_count=rec.eligible_count,
        offset=offset, limit=limit,
        items=[RankedOut(rank=offset + i + 1, offering_id=r.offering_id, provider_id=r.provider_id,
                         provider_name=bucket.names.get(r.provider_id),
                         title=bucket.titles.get(r.offering_id), score=r.score,
                         factors=[FactorOut(name=f.name, value=f.value, weight=f.weight,
                                            contribution=f.contribution) for f in r.factors])
               for i, r in enumerate(rec.ranked)],
        excluded_count=rec.excluded_count, excluded_by_reason=dict(rec.excluded_by_reason),
        excluded=[ExcludedOut(offering_id=e.offering_id, provider_id=e.provider_id,
                              reason=e.reason.value) for e in rec.excluded])
