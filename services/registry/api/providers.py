"""Providers: applications, the public register, details, accreditation decisions, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import OptionalPrincipalDep, PrincipalDep, require
from kit.errors import problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.pagination import CursorKind, LimitQuery
from kit.runtime import RuntimeDep
from kit.versioning import IfMatchDep, versioned_model
from services.registry.api.common import OwnProviderDep
from services.registry.domain.accreditation import AccreditationState
from services.registry.schemas import (
    AccreditationOut,
    AuditPage,
    AuditPosition,
    DecisionIn,
    ProviderApplication,
    ProviderDetails,
    ProviderOut,
    ProviderPage,
    ProviderPosition,
    RegionApplication,
)
from services.registry.use_cases import accreditation, audit, providers

router = APIRouter(prefix="/providers", tags=["providers"])
AdminDep = Annotated[Principal, Depends(require(Role.region_admin))]
REGISTER = CursorKind("registry.providers", ProviderPosition)
HISTORY = CursorKind("registry.provider-history", AuditPosition)


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
async def submit_application(body: ProviderApplication, rt: RuntimeDep,
                             principal: OptionalPrincipalDep,
                             idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await providers.submit_application(rt.db, body, principal=principal, key=idempotency_key)
    return once_response(once, 201)


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
    request: Request,
    rt: RuntimeDep,
    principal: OptionalPrincipalDep,
    after: Annotated[ProviderPosition | None, Depends(REGISTER.query)],
    region: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[list[AccreditationState] | None, Query()] = None,
    limit: LimitQuery = 50,
) -> ProviderPage:
    page = await providers.list_providers(rt.db, principal, region=region, states=state,
                                          after=after, limit=limit)
    return ProviderPage(items=page.items, next_cursor=REGISTER.encode(request, page.next))


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
    return versioned_model(await providers.get_provider(rt.db, provider_id, principal))


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
                          principal: OwnProviderDep, if_match: IfMatchDep) -> JSONResponse:
    return versioned_model(await providers.update_provider(
        rt.db, provider_id, body, principal=principal, if_match=if_match))


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
                 principal: AdminDep, if_match: IfMatchDep,
                 idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await accreditation.decide(rt.db, provider_id, region, body, principal=principal,
                                      if_match=if_match, key=idempotency_key)
    return once_response(once, 200)


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
                          idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await accreditation.apply_in_region(rt.db, provider_id, body.region,
                                               principal=principal, key=idempotency_key)
    return once_response(once, 201)


@router.get(
    "/{provider_id}/history",
    response_model=AuditPage,
    summary="Decisions about a provider (audit log)",
    description="Newest first. The provider sees its whole history; a region admin the "
    "entries of its own region.",
    responses=problems(401, 404, 422),
)
async def history(
    provider_id: str, request: Request, rt: RuntimeDep, principal: PrincipalDep,
    after: Annotated[AuditPosition | None, Depends(HISTORY.query)], limit: LimitQuery = 50,
) -> AuditPage:
    page = await audit.provider_history(rt.db, provider_id, principal, after=after,
                                        limit=limit)
    return AuditPage(items=page.items, next_cursor=HISTORY.encode(request, page.next))
