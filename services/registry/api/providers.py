from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.app import RuntimeDep
from kit.auth import OptionalPrincipalDep, PrincipalDep, require
from kit.errors import Forbidden, NotFound, problems
from kit.pagination import Cursor, LimitQuery
from services.registry import repository, service
from services.registry.models import Accreditation
from services.registry.schemas import (
    AccreditationOut,
    AuditPage,
    DecisionIn,
    ProviderApplication,
    ProviderOut,
    ProviderPage,
    RegionApplication,
)

router = APIRouter(prefix="/providers", tags=["providers"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
AdminDep = Annotated[Principal, Depends(require(Role.region_admin))]


@router.post(
    "",
    status_code=201,
    response_model=ProviderOut,
    summary="Apply to become a provider",
    description="Creates a provider application in one or more regions (each region's admin "
    "decides). The business ID (Y-tunnus) is checked with its check digit; a business ID that "
    "has applied already is refused (409). Accepts `Idempotency-Key`.",
    responses=problems(409, 422),
)
async def apply(body: ProviderApplication, rt: RuntimeDep, principal: OptionalPrincipalDep,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.apply(rt.db, body, principal=principal, key=idempotency_key)
    return JSONResponse(outcome.body, status_code=outcome.status_code)


@router.get(
    "",
    response_model=ProviderPage,
    summary="List providers",
    description="The public register: providers approved in some region (or in `region`). "
    "A region admin may list its region's providers in any state with `state=`.",
    responses=problems(403, 422),
)
async def list_providers(
    rt: RuntimeDep,
    principal: OptionalPrincipalDep,
    region: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[list[str] | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ProviderPage:
    states = state or ["approved"]
    if states != ["approved"]:
        if principal is None or principal.role is not Role.region_admin:
            raise Forbidden("only region admins list providers that are not approved")
        if region and region != principal.region:
            raise Forbidden("you may list only your own region's applications")
        region = principal.region
    after = Cursor.decode(cursor).get("after") if cursor else None
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


@router.get("/{provider_id}", response_model=ProviderOut, responses=problems(404),
            summary="One provider",
            description="Everyone sees approved accreditations; the provider itself and the "
            "region's admins see the rest.")
async def get_provider(provider_id: str, rt: RuntimeDep,
                       principal: OptionalPrincipalDep) -> ProviderOut:
    return await service.get_provider(rt.db, provider_id, principal)


@router.post(
    "/{provider_id}/accreditations/{region}/decisions",
    response_model=AccreditationOut,
    summary="Decide on a provider's accreditation in a region",
    description="approve (with `valid_until`), reject, suspend, reinstate, revoke, renew. "
    "Only an admin of that region decides; every decision needs a reason and is audited. "
    "`If-Match` with the accreditation's version guards against racing decisions.",
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def decide(provider_id: str, region: str, body: DecisionIn, rt: RuntimeDep,
                 principal: AdminDep, if_match: IfMatch = None,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.decide_accreditation(
        rt.db, provider_id, region, body, principal=principal, if_match=if_match,
        key=idempotency_key)
    return JSONResponse(outcome.body, status_code=outcome.status_code)


@router.post(
    "/{provider_id}/accreditations",
    response_model=AccreditationOut,
    status_code=201,
    summary="Apply in one more region (or again after rejection or expiry)",
    responses=problems(401, 404, 409, 422),
)
async def apply_in_region(provider_id: str, body: RegionApplication, rt: RuntimeDep,
                          principal: PrincipalDep) -> AccreditationOut:
    return await service.apply_in_region(rt.db, provider_id, body.region, principal=principal)


@router.get(
    "/{provider_id}/history",
    response_model=AuditPage,
    summary="Decisions about a provider (audit log)",
    description="The provider sees its whole history; a region admin the entries of its "
    "region.",
    responses=problems(401, 404),
)
async def history(provider_id: str, rt: RuntimeDep, principal: PrincipalDep,
                  limit: LimitQuery = 50,
                  cursor: Annotated[str | None, Query(max_length=500)] = None) -> AuditPage:
    own = principal.role is Role.provider and principal.provider_id == provider_id
    admin = principal.role is Role.region_admin
    if not (own or admin):
        raise NotFound("no such provider")
    before = Cursor.decode(cursor).get("before") if cursor else None
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
