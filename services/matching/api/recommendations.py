"""Recommendations for one voucher."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kit.auth import PrincipalDep
from kit.errors import problems
from kit.runtime import RuntimeDep
from services.matching.schemas import RecommendationOut
from services.matching.use_cases import recommendations

router = APIRouter(tags=["recommendations"])


@router.get(
    "/recommendations/{voucher_id}",
    response_model=RecommendationOut,
    summary="Offerings ranked for one voucher, each factor explained",
    description="For the voucher's holder (a citizen whose login matches the voucher's holder "
    "reference) and the admins of the voucher's region; for anyone else the voucher does not "
    "exist (404). Eligible offerings (provider approved in the voucher's region, the voucher's "
    "service type, an open place, in the holder's municipality or region or remote when that "
    "suits the holder, a language the holder speaks) ranked by the versioned score "
    "(`score_version`; method in docs/MATCHING.md): each result lists every factor's value, "
    "weight and contribution, and the contributions sum to the score. Equal scores are "
    "ordered by the voucher's own rotation (a hash of the voucher and the offering): the same "
    "for one voucher on every request, different between vouchers, never by name. The "
    "holder's profile bands, age, sex, origin or health are not used. The ranked offerings "
    "followed by the excluded ones (offerings of the same region and service type left out, "
    "with the first rule each fails) are one list, paged by `offset` and `limit`: a page lists "
    "`items` from `offset` and, once the ranked list has ended, the `excluded` that follow; "
    "`eligible_count` and `excluded_count` cover all.",
    responses=problems(401, 404, 422),
)
async def for_voucher(voucher_id: str, rt: RuntimeDep, principal: PrincipalDep,
                      limit: Annotated[int, Query(ge=1, le=200, description="results and "
                                                  "excluded offerings on the page")] = 20,
                      offset: Annotated[int, Query(ge=0, le=1_000_000, description=(
                          "results and excluded offerings before the page"))] = 0,
                      ) -> RecommendationOut:
    return await recommendations.for_voucher(rt.db, rt.extra, principal, voucher_id, limit,
                                             offset)
