"""Region admins: the audit log of their region, and running the expiry job now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import problems
from kit.pagination import CursorKind, LimitQuery
from kit.runtime import RuntimeDep
from services.registry.schemas import AuditPage, AuditPosition, ExpiryRun
from services.registry.use_cases import accreditation, audit

router = APIRouter(tags=["administration"])
AdminDep = Annotated[Principal, Depends(require(Role.region_admin))]
AUDIT_LOG = CursorKind("registry.audit-log", AuditPosition)


@router.get(
    "/audit-log",
    response_model=AuditPage,
    summary="The region's audit log, newest first (region admins)",
    description="Every accreditation decision in the admin's region with actor, role, "
    "reason, time and the change it made. The log is append-only: the database refuses to "
    "update or delete its rows.",
    responses=problems(401, 403, 422),
)
async def audit_log(
    request: Request, rt: RuntimeDep, principal: AdminDep,
    after: Annotated[AuditPosition | None, Depends(AUDIT_LOG.query)], limit: LimitQuery = 50,
) -> AuditPage:
    page = await audit.region_log(rt.db, principal.region, after=after, limit=limit)
    return AuditPage(items=page.items, next_cursor=AUDIT_LOG.encode(request, page.next))


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
    n = await accreditation.expire_due(rt.db, region=principal.region, actor=principal)
    return ExpiryRun(expired=n)
