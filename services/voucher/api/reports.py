"""Reports of a region's money, and its hash-chained audit log of money decisions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import problems
from services.voucher.api.deps import AUDIT, AuditBefore, BeforeSeq, Limit, RuntimeDep
from services.voucher.use_cases import reports
from services.voucher.use_cases.reports import ChainVerification, Dimension, Report

router = APIRouter(tags=["reports"])
Admin = Depends(require(Role.region_admin))


@router.get("/reports", response_model=Report, summary="Money of the region, grouped",
            description="By `service_type`, `provider`, `funder`, `budget` or the whole "
            "`region`, for transfers made between `from` and `to` (Finnish calendar days, "
            "inclusive; both optional). Every sum comes from the ledger's transfers: funded, "
            "issued, committed (still on vouchers), spent (approved claims), pending, "
            "released, available, paid; cost per completed voucher and per achieved outcome "
            "(employed or studying). `format=csv` for a spreadsheet.",
            responses={**problems(401, 403, 422),
                       200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def report(rt: RuntimeDep, principal: Principal = Admin,
                 by: Annotated[Dimension, Query()] = Dimension.service_type,
                 period_from: Annotated[date | None, Query(alias="from")] = None,
                 period_to: Annotated[date | None, Query(alias="to")] = None,
                 format: Annotated[Literal["json", "csv"], Query()] = "json"
                 ) -> Report | Response:
    r = await reports.report(rt.db, principal, by, period_from, period_to)
    if format == "csv":
        return Response(reports.as_csv(r), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="report-{r.region}-{by.value}.csv"'})
    return r


@router.get("/audit-chain", summary="The region's money decisions, newest first",
            description="Every decision on money (budgets, issuance, claim decisions, "
            "cancellations, transfers, payment batches) with actor, reason and time; each "
            "entry carries the hash of the one before it in the region's chain.",
            responses=problems(401, 403, 422))
async def audit_log(request: Request, rt: RuntimeDep, principal: Principal = Admin,
                    limit: Limit = 50, position: AuditBefore = None) -> dict[str, Any]:
    items = await reports.audit_entries(rt.db, principal,
                                        before=position.seq if position else None, limit=limit)
    more = len(items) == limit and items[-1].chain_seq > 1
    return {"items": [i.model_dump(mode="json") for i in items],
            "next_cursor": AUDIT.encode(request, BeforeSeq(seq=items[-1].chain_seq)
                                        if more else None)}


@router.get("/audit-chain/verification", response_model=ChainVerification,
            summary="Verify the region's audit chain",
            description="Recomputes every entry's hash from the first one: `valid` is false, "
            "with the first entry that does not verify, when anything was changed, removed or "
            "inserted.", responses=problems(401, 403))
async def verify(rt: RuntimeDep, principal: Principal = Admin) -> ChainVerification:
    return await reports.verify(rt.db, principal)
