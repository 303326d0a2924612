"""Region admins: the audit log of their region, and running the expiry job now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import problems
from kit.pagination import Cursor, LimitQuery
from kit.runtime import RuntimeDep
from services.registry import repository, service
from services.registry.api.common import cursor_field
from services.registry.schemas import AuditPage, ExpiryRun

router = APIRouter(tags=["administration"])
AdminDep = Annotated[Principal, Depends(require(Role.region_admin))]


@router.get(
    "/audit-log",
    response_model=AuditPage,
    summary="The region's audit log, newest first (region admins)",
    description="Every accreditation decision in the admin's region with actor, role, "
    "reason, time and the change it made. The log is append-only: the database refuses to "
    "update or delete its rows.",
    responses=problems(401, 403, 422),
)
async def audit_log(rt: RuntimeDep, principal: AdminDep, limit: LimitQuery = 50,
                    cursor: Annotated[str | None, Query(max_length=500)] = None) -> AuditPage:
    before = cursor_field(cursor, "before", int)
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
    description="Accreditations in the admin's region that are approved or suspended and "
    "whose `valid_until` has passed (in Finnish time) become `expired`, each with an audit "
    "entry and a `provider.expired` event; their offerings leave the search. The same job "
    "runs by itself every `REGISTRY_EXPIRY_INTERVAL_SECONDS` for every region.",
    responses=problems(401, 403),
)
async def run_expiry(rt: RuntimeDep, principal: AdminDep) -> ExpiryRun:
    n = await service.expire_due(rt.db, region=principal.region, actor=principal)
    return ExpiryRun(expired=n)
