"""Claims: seen by the provider that made them and the region's admins; decided by admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import PrincipalDep, require
from kit.errors import problems
from kit.idempotency import once_response
from services.voucher.api.deps import (
    CLAIMS,
    ClaimsAfter,
    IdempotencyKey,
    Limit,
    RuntimeDep,
    after,
    page,
)
from services.voucher.domain.reasons import EXPLANATIONS, ClaimRejection
from services.voucher.schemas import ClaimDecisionIn, ClaimOut, Page
from services.voucher.use_cases import claims

router = APIRouter(prefix="/claims", tags=["claims"])
Status = Literal["submitted", "approved", "rejected", "paid"]
CODES = "; ".join(f"`{c.value}`: {EXPLANATIONS[c.value][1]}" for c in ClaimRejection)


@router.get("", response_model=Page[ClaimOut], summary="Claims I may see",
            description="A provider: its own claims. A region admin: the region's claims. "
            "Both see the status and, for a rejection, the reason code, its explanation and "
            "the free text.", responses=problems(401, 403, 422))
async def list_claims(request: Request, rt: RuntimeDep,
                      principal: PrincipalDep, limit: Limit = 50,
                      position: ClaimsAfter = None,
                      status: Annotated[Status | None, Query()] = None) -> dict[str, Any]:
    items = await claims.list_(rt.db, principal, status=status, after=after(position),
                               limit=limit)
    return page(request, CLAIMS, items, limit)


@router.get("/{claim_id}", response_model=ClaimOut, summary="One claim",
            responses=problems(401, 404))
async def get_claim(claim_id: str, rt: RuntimeDep, principal: PrincipalDep) -> ClaimOut:
    return await claims.get(rt.db, principal, claim_id)


@router.post("/{claim_id}/decision", response_model=ClaimOut,
             summary="Approve or reject a claim",
             description="By an admin of the claim's region, once. Approval posts the pending "
             "transfer to the provider's PAYABLE account (it becomes payable); rejection "
             "voids it, with a reason code and free text (required for `other`). Reason "
             "codes: " + CODES + ". Audited with the admin and the reason.",
             responses=problems(401, 403, 404, 409, 422))
async def decide(claim_id: str, body: ClaimDecisionIn, rt: RuntimeDep,
                 principal: Principal = Depends(require(Role.region_admin)),
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await claims.decide(rt.db, principal, claim_id, body, idempotency_key)
    return once_response(once, 200)
