"""Published outcome statistics (public), creaming signals (admins), publishing (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from contracts.principal import Principal, Role
from kit.auth import PrincipalDep, require
from kit.errors import Unprocessable, problems
from kit.runtime import RuntimeDep
from services.matching.schemas import CreamingList, PublicationOut, RatingList, StatisticsList
from services.matching.use_cases import statistics

router = APIRouter(tags=["statistics"])
Code = Annotated[str | None, Query(min_length=1, max_length=60)]
MAX_PROVIDERS = 50  # provider_id= values in one request
Providers = Annotated[list[str] | None, Query(description=(
    f"only these providers (repeated `provider_id=`, at most {MAX_PROVIDERS})"))]


def providers_asked(ids: list[str] | None) -> frozenset[str] | None:
    if ids is None:
        return None
    if not 1 <= len(ids) <= MAX_PROVIDERS:
        raise Unprocessable.field("provider_id", f"name 1 to {MAX_PROVIDERS} providers")
    for i, pid in enumerate(ids):
        if not 1 <= len(pid) <= 36:
            raise Unprocessable.field(f"provider_id.{i}", "a provider id has 1 to 36 "
                                      "characters")
    return frozenset(ids)


@router.get(
    "/statistics",
    response_model=StatisticsList,
    summary="Risk-adjusted outcome figures per provider × service type × region",
    description="Public. From the latest publication: each provider's share of starts that "
    "ended employed or studying, the share expected from its holders' profile bands under "
    "the region's comparison model (frozen for the publication), and actual ÷ expected pulled "
    "toward 1 when numbers are small, with a 95 % interval. Below the minimum number of "
    "starts (18) a figure is not shown: `too_few_participants` is true and no number is "
    "given. `provider_id` (repeatable) keeps only those providers' figures. Method: "
    "docs/MATCHING.md.",
    responses=problems(422),
)
async def figures(rt: RuntimeDep, region: Code = None, service_type: Code = None,
                  provider_id: Providers = None) -> StatisticsList:
    return await statistics.read(rt.db, region, service_type, providers_asked(provider_id))


@router.get(
    "/statistics/ratings",
    response_model=RatingList,
    summary="Holders' ratings of the providers of a region",
    description="Public. Per provider × service type of the region: how many holders rated "
    "the provider after a completed voucher and the mean stars (1–5), the same ratings the "
    "score's `rating` factor reads. Below `min_count` ratings (3) the mean is not given, only "
    "the count. `provider_id` (repeatable) keeps only those providers.",
    responses=problems(422),
)
async def ratings(rt: RuntimeDep, region: Annotated[str, Query(min_length=1, max_length=60)],
                  service_type: Code = None, provider_id: Providers = None) -> RatingList:
    return await statistics.ratings(rt.db, region, service_type,
                                    providers_asked(provider_id))


@router.get(
    "/statistics/creaming",
    response_model=CreamingList,
    summary="Providers whose holders are much easier than the region's mix",
    description="For the region's admins only (their own region): providers whose holders' "
    "expected outcome is far above the region's (at least 10 points and 3 standard errors), "
    "with the figures behind each flag.",
    responses=problems(401, 403, 422),
)
async def creaming(rt: RuntimeDep, principal: PrincipalDep,
                   region: Code = None) -> CreamingList:
    return await statistics.creaming(rt.db, principal, region)


@router.post(
    "/statistics/publications",
    status_code=201,
    response_model=PublicationOut,
    summary="Publish outcome statistics now",
    description="By a region admin (or the schedule): figures of every provider × service "
    "type × region from the definitive outcomes of the rolling window, stored as one "
    "publication with its frozen comparison groups; the figures and the ranking use it from "
    "then on.",
    responses=problems(401, 403),
)
async def publish(rt: RuntimeDep, principal: Annotated[Principal, Depends(
        require(Role.region_admin, Role.service))]) -> PublicationOut:
    return await statistics.publish(rt.db)
