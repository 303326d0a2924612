"""Default assignment runs and overrides (region admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kit.auth import PrincipalDep
from kit.errors import problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.pagination import CursorKind, LimitQuery
from kit.runtime import RuntimeDep
from services.matching.api.common import SettingsDep
from services.matching.schemas import (
    OverrideIn,
    OverrideOut,
    ProposalList,
    ProposalPosition,
    RunIn,
    RunList,
    RunOut,
    RunPosition,
    VoucherAssignmentOut,
)
from services.matching.use_cases import assignments, runs

router = APIRouter(tags=["assignments"])
RUNS = CursorKind("matching.assignment-runs", RunPosition)
PROPOSALS = CursorKind("matching.assignment-proposals", ProposalPosition)


@router.get(
    "/assignments",
    response_model=RunList,
    summary="The default-assignment runs of the admin's region, newest first",
    description="For region admins: their own region's runs (inputs, seed, score version, "
    "summary), newest first; cursor paginated. Another role: 403.",
    responses=problems(401, 403, 422),
)
async def list_runs(
    request: Request, rt: RuntimeDep, principal: PrincipalDep,
    before: Annotated[RunPosition | None, Depends(RUNS.query)], limit: LimitQuery = 50,
) -> RunList:
    page = await runs.list_runs(rt.db, principal, before=before, limit=limit)
    return RunList(items=page.items, next_cursor=RUNS.encode(request, page.next))


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


@router.get(
    "/assignments/{run_id}/proposals",
    response_model=ProposalList,
    summary="What one run proposed for each voucher, and why",
    description="For the admins of the run's region (for anyone else the run does not "
    "exist): each voucher of the run with the offering proposed (none: not assigned), its "
    "place in the voucher's own ranking, whether an admin set it (and the reason), and the "
    "explanation in the holder's words (fi, sv, en); in voucher id order, cursor paginated.",
    responses=problems(401, 404, 422),
)
async def list_proposals(
    run_id: str, request: Request, rt: RuntimeDep, principal: PrincipalDep,
    after: Annotated[ProposalPosition | None, Depends(PROPOSALS.query)],
    limit: LimitQuery = 50,
) -> ProposalList:
    page = await runs.proposals(rt.db, principal, run_id, after=after, limit=limit)
    return ProposalList(items=page.items, next_cursor=PROPOSALS.encode(request, page.next))


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


@router.get(
    "/recommendations/{voucher_id}/assignment",
    response_model=VoucherAssignmentOut,
    summary="The voucher's latest default assignment, and why",
    description="For the voucher's holder and the admins of its region (anyone else: 404, "
    "as for a voucher that does not exist): the offering the newest run that had the "
    "voucher proposed (none: it could not assign one), whether an admin set it, and the "
    "explanation in the holder's words. 404 when no run has had the voucher. Whether the "
    "voucher service applied it is the voucher's own `chosen_by`.",
    responses=problems(401, 404),
)
async def voucher_assignment(voucher_id: str, rt: RuntimeDep,
                             principal: PrincipalDep) -> VoucherAssignmentOut:
    return await runs.voucher_assignment(rt.db, principal, voucher_id)
