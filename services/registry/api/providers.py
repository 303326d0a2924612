"""Providers: applications, the public register, details, accreditation decisions, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import OptionalPrincipalDep, PrincipalDep, require
from kit.errors import Forbidden, NotFound, problems
from kit.pagination import Cursor, LimitQuery
from kit.runtime import RuntimeDep
from services.registry import repository, service
from services.registry.api.common import (
    IdempotencyKey,
    IfMatch,
    OwnProviderDep,
    cursor_field,
    outcome_response,
    tagged,
)
from services.registry.domain.accreditation import AccreditationState
from services.registry.models import Accreditation
from services.registry.schemas import (
    AccreditationOut,
    AuditPage,
    DecisionIn,
    ProviderApplication,
    ProviderDetails,
    ProviderOut,
    ProviderPage,
    RegionApplication,
)

router = APIRouter(prefix="/providers", tags=["providers"])
AdminDep = Annotated[Principal, Depends(require(Role.region_admin))]
CursorQuery = Annotated[str | None, Query(max_length=500, description="from next_cursor")]


@router.post(
    "",
    status_code=201,
    response_model=ProviderOut,
    summary="Apply to become a provider",
    description="Open to anyone, no login needed. Creates a provider application in one or "
    "more regions; each region's admin decides. The business ID (Y-tunnus) is checked with its "
    "check digit; a business ID that has applied already is refused (409, type "
    "`/problems/duplicate-business-id`). Emits `provider.applied`. Accepts `Idempotency-Key`.",
    responses=problems(401, 409, 422),
)
async def apply(body: ProviderApplication, rt: RuntimeDep, principal: OptionalPrincipalDep,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.apply(rt.db, body, principal=principal, key=idempotency_key)
    return outcome_response(outcome)


@router.get(
    "",
    response_model=ProviderPage,
    summary="List providers",
    description="The public register: providers approved in some region (or in `region`), "
    "in id order. A region admin may list its own region's providers in any state with "
    "`state=` (e.g. `state=applied` is the queue of applications to decide).",
    responses=problems(401, 403, 422),
)
async def list_providers(
    rt: RuntimeDep,
    principal: OptionalPrincipalDep,
    region: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[list[AccreditationState] | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> ProviderPage:
    states = [s.value for s in state] if state else ["approved"]
    if states != ["approved"]:
        if principal is None or principal.role is not Role.region_admin:
            raise Forbidden("only region admins list providers that are not approved")
        if region and region != principal.region:
            raise Forbidden("you may list only your own region's applications")
        region = principal.region
    after = cursor_field(cursor, "after", str)
    async with rt.db.reader() as s:
        rows = await repository.providers_page(s, after=after, limit=limit, region=region,
                                               states=states)
        more = len(rows) > limit
        rows = rows[:limit]
        accs = await repository.accreditations(s, [p.id for p in rows])
    by_provider: dict[str, list[Accreditation]] = {}
    for a in accs:
        by_provider.setdefault(a.provider_id, []).append(a)
    return ProviderPage(
        items=[service.provider_out(p, by_provider.get(p.id, []), principal) for p in rows],
        next_cursor=Cursor.encode({"after": rows[-1].id}) if more and rows else None,
    )


@router.get(
    "/{provider_id}",
    response_model=ProviderOut,
    summary="One provider",
    description="Everyone sees a provider approved in some region, with its approved "
    "accreditations; the provider itself and the region's admins also see the rest. "
    "`ETag` carries the version for `If-Match`.",
    responses=problems(401, 404),
)
async def get_provider(provider_id: str, rt: RuntimeDep,
                       principal: OptionalPrincipalDep) -> JSONResponse:
    out = await service.get_provider(rt.db, provider_id, principal)
    return tagged(out.model_dump(mode="json"))


@router.put(
    "/{provider_id}",
    response_model=ProviderOut,
    summary="Change the provider's details",
    description="By the provider's own staff: legal name, contact person, email, phone, "
    "website and description (the business ID never changes). `If-Match` with the version "
    "guards against lost updates. Emits `provider.updated` when something changed.",
    responses=problems(401, 404, 412, 422),
)
async def update_provider(provider_id: str, body: ProviderDetails, rt: RuntimeDep,
                          principal: OwnProviderDep, if_match: IfMatch = None) -> JSONResponse:
    out = await service.update_provider(rt.db, provider_id, body, principal=principal,
                                        if_match=if_match)
    return tagged(out.model_dump(mode="json"))


@router.post(
    "/{provider_id}/accreditations/{region}/decisions",
    response_model=AccreditationOut,
    summary="Decide on a provider's accreditation in a region",
    description="`approve` (with `valid_until`), `reject`, `suspend`, `reinstate`, `revoke`, "
    "`renew` (with a new `valid_until`). Only an admin of that region decides (else 403); "
    "every decision needs a reason, is written to the audit log with the admin and the time, "
    "and emits its event (`provider.accredited`, `.rejected`, `.suspended`, `.reinstated`, "
    "`.revoked`). A decision the current state does not allow is a 409 naming that state. "
    "`If-Match` with the accreditation's version guards against racing decisions (412). "
    "Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def decide(provider_id: str, region: str, body: DecisionIn, rt: RuntimeDep,
                 principal: AdminDep, if_match: IfMatch = None,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.decide_accreditation(
        rt.db, provider_id, region, body, principal=principal, if_match=if_match,
        key=idempotency_key)
    return outcome_response(outcome)


@router.post(
    "/{provider_id}/accreditations",
    response_model=AccreditationOut,
    status_code=201,
    summary="Apply in one more region (or again after rejection or expiry)",
    description="By the provider's own staff. A region not applied to before gets a new "
    "application (`provider.applied`); a rejected or expired accreditation goes back to "
    "`applied` (`provider.reapplied`); any other state is a 409. Accepts `Idempotency-Key`.",
    responses=problems(401, 404, 409, 422),
)
async def apply_in_region(provider_id: str, body: RegionApplication, rt: RuntimeDep,
                          principal: OwnProviderDep,
                          idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.apply_in_region(rt.db, provider_id, body.region,
                                            principal=principal, key=idempotency_key)
    return outcome_response(outcome)


@router.get(
    "/{provider_id}/history",
    response_model=AuditPage,
    summary="Decisions about a provider (audit log)",
    description="Newest first. The provider sees its whole history; a region admin the "
    "entries of its own region.",
    responses=problems(401, 404, 422),
)
async def history(provider_id: str, rt: RuntimeDep, principal: PrincipalDep,
                  limit: LimitQuery = 50, cursor: CursorQuery = None) -> AuditPage:
    own = service.is_own_provider(principal, provider_id)
    admin = principal.role is Role.region_admin
    if not (own or admin):
        raise NotFound("no such provider")
    before = cursor_field(cursor, "before", int)
    async with rt.db.reader() as s:
        if await repository.provider(s, provider_id) is None:
            raise NotFound("no such provider")
        rows = await repository.audit_entries(
            s, region=None if own else principal.region, subject_id=provider_id,
            before=before, limit=limit)
    if admin and not rows:
        # an admin with nothing about this provider in its region learns nothing more
        raise NotFound("no such provider")
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage.model_validate({
        "items": rows,
        "next_cursor": Cursor.encode({"before": rows[-1]["seq"]}) if more else None,
    })
