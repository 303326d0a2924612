from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from contracts.principal import Principal, Role
from kit.app import RuntimeDep
from kit.auth import require
from kit.errors import problems
from kit.pagination import Cursor, LimitQuery
from services.registry import repository, service
from services.registry.schemas import AuditPage, ExpiryRun

router = APIRouter(tags=["administration"])
AdminDep = Annotated[Principal, Depends(require(Role.region_admin))]


@router.get("/audit-log", response_model=AuditPage, responses=problems(401, 403),
            summary="The region's audit log, newest first (region admins)")
async def audit_log(rt: RuntimeDep, principal: AdminDep, limit: LimitQuery = 50,
                    cursor: Annotated[str | None, Query(max_length=500)] = None) -> AuditPage:
    before = Cursor.decode(cursor).get("before") if cursor else None
    async with rt.db.reader() as s:
        rows = await repository.audit_entries(s, region=principal.region, subject_id=None,
                                              before=before, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage.model_validate({
        "items": rows,
        "next_cursor": Cursor.encode({"before": rows[-1]["seq"]}) if more else None,
    })


@router.post(
    "/accreditation-expiry-runs",
    response_model=ExpiryRun,
    summary="Expire the region's accreditations past their valid_until now",
    description="The same job also runs by itself every `REGISTRY_EXPIRY_INTERVAL_SECONDS`.",
    responses=problems(401, 403),
)
async def run_expiry(rt: RuntimeDep, principal: AdminDep) -> ExpiryRun:
    n = await service.expire_due(rt.db, region=principal.region, actor=principal)
    return ExpiryRun(expired=n)
