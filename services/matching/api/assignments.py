"""Default assignment runs and overrides (region admins)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kit.auth import PrincipalDep
from kit.errors import problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.runtime import RuntimeDep
from services.matching.api.common import SettingsDep
from services.matching.schemas import OverrideIn, OverrideOut, RunIn, RunOut
from services.matching.use_cases import assignments

router = APIRouter(tags=["assignments"])


@router.post(
    "/assignments",
    status_code=201,
    response_model=RunOut,
    summary="Run default assignment for the admin's region",
    description="Vouchers of the region with no provider chosen after their choice deadline "
    "get one of their top-K candidates (by the recommendation score), maximising the total "
    "score under the offerings' open places and a cap on any one provider's share of the "
    "run. The run records its inputs, seed and score version; the same seed on the same data "
    "gives the same assignment. Each placed voucher becomes an `assignment.proposed` event "
    "that the voucher service applies (the holder can still change it before the start). "
    "Overrides are kept. The summary tells the assigned and first-choice shares, the "
    "unassigned and why, and the shares by municipality, language and holder kind. Accepts "
    "`Idempotency-Key`.",
    responses=problems(401, 403, 422),
)
async def start(body: RunIn, rt: RuntimeDep, settings: SettingsDep, principal: PrincipalDep,
                idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await assignments.start(rt.db, settings, rt.extra, principal, body, idempotency_key)
    return once_response(once, 201)


@router.get(
    "/assignments/{run_id}",
    response_model=RunOut,
    summary="One assignment run: inputs, seed, score version and summary",
    description="For the admins of the run's region; for anyone else it does not exist.",
    responses=problems(401, 404),
)
async def read(run_id: str, rt: RuntimeDep, principal: PrincipalDep) -> RunOut:
    return await assignments.read(rt.db, principal, run_id)


@router.post(
    "/assignments/{run_id}/overrides",
    status_code=201,
    response_model=OverrideOut,
    summary="Assign a voucher by hand, with a reason",
    description="By an admin of the run's region: the voucher gets the offering (of its "
    "service type, in the region) and keeps it in every later run. Sent to the voucher "
    "service as a proposal marked `override`, applied if the holder has not chosen and the "
    "service has not started (409 otherwise). Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 404, 409, 422),
)
async def override(run_id: str, body: OverrideIn, rt: RuntimeDep, principal: PrincipalDep,
                   idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await assignments.override(rt.db, principal, run_id, body, idempotency_key)
    return once_response(once, 201)
