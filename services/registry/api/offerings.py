"""Offerings: public search, and publishing, changing and withdrawing by the provider."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from contracts.principal import Principal
from kit.auth import OptionalPrincipalDep, PrincipalDep
from kit.errors import Unprocessable, problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.pagination import CursorKind, LimitQuery
from kit.runtime import Runtime, RuntimeDep
from kit.versioning import IfMatchDep, versioned_model
from services.registry.domain.languages import ISO_639_1
from services.registry.schemas import (
    OfferingIn,
    OfferingOut,
    OfferingPage,
    OfferingPosition,
    OfferingSearch,
)
from services.registry.use_cases import offerings

router = APIRouter(prefix="/offerings", tags=["offerings"])
SEARCH = CursorKind("registry.offerings", OfferingPosition)


@router.get(
    "",
    response_model=OfferingPage,
    summary="Search offerings",
    description="Public search over the offerings of providers accredited in the offering's "
    "region: a suspended, revoked or expired accreditation hides them at once. Filters "
    "combine; `q` matches every word (up to 8) as a substring, case and accents folded, of "
    "the provider's name, the title and the description in any language and the Finnish and "
    "Swedish names of the offering's municipalities (`Tammerfors` finds what `Tampere` "
    "finds). Offerings whose title holds every word come first; then by next start date and "
    "publication order (stable); cursor paginated. `total` counts matches up to 200; "
    "`total_exact` is false when there are more.\n\n"
    "`visibility=all` also returns hidden and withdrawn offerings: for a provider's staff "
    "(their own offerings) and a region admin (their region's).\n\n"
    "`id=…&id=…` (up to 50, alone) returns those offerings instead, as `GET /offerings/{id}` "
    "would show each, in the order named: the ones that do not exist or are not visible to "
    "the caller are left out.",
    responses=problems(401, 403, 422),
)
async def search(
    request: Request,
    rt: RuntimeDep,
    principal: OptionalPrincipalDep,
    after: Annotated[OfferingPosition | None, Depends(SEARCH.query)],
    region: Annotated[str | None, Query(max_length=40, description="region code")] = None,
    service_type: Annotated[str | None, Query(max_length=60)] = None,
    municipality: Annotated[str | None, Query(
        pattern=r"^[0-9]{3}$", description="Statistics Finland municipality code")] = None,
    language: Annotated[str | None, Query(
        pattern=r"^[a-z]{2}$", description="ISO 639-1 code")] = None,
    remote: Annotated[bool | None, Query(description="remote delivery offered")] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text")] = None,
    provider_id: Annotated[str | None, Query(max_length=36)] = None,
    visibility: Literal["public", "all"] = "public",
    limit: LimitQuery = 50,
    id: Annotated[list[str] | None, Query(description=(
        f"these offerings (at most {offerings.MAX_IDS}, repeated `id=`), those the caller "
        "may see, in the order asked; not combined with other filters or a cursor"))] = None,
) -> Response:
    if id is not None:
        return await _named(rt, principal, id, others=(
            after, region, service_type, municipality, language, remote, q, provider_id))
    if language is not None and language not in ISO_639_1:
        raise Unprocessable.field("language", f"'{language}' is not an ISO 639-1 language code")
    wanted = OfferingSearch(region=region, service_type=service_type, municipality=municipality,
                            language=language, remote=remote, text=q, provider_id=provider_id)
    found = await offerings.search(rt.db, principal, wanted, visibility=visibility,
                                   after=after, limit=limit)
    page = {"items": [dict(r) for r in found.items],
            "next_cursor": SEARCH.encode(request, found.next), "total": found.total,
            "total_exact": found.total_exact}
    # Built from plain rows and serialised once: the response model above documents it.
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")


async def _named(rt: Runtime, principal: Principal | None, ids: list[str],
                 others: tuple[Any, ...]) -> Response:
    if any(o is not None for o in others):
        raise Unprocessable.field("id", "named offerings are not combined with other filters "
                                  "or a cursor")
    if not 1 <= len(ids) <= offerings.MAX_IDS:
        raise Unprocessable.field("id", f"name 1 to {offerings.MAX_IDS} offerings")
    for i, oid in enumerate(ids):
        if not 1 <= len(oid) <= 36:
            raise Unprocessable.field(f"id.{i}", "an offering id has 1 to 36 characters")
    rows = await offerings.named(rt.db, principal, ids)
    page = {"items": [dict(r) for r in rows], "next_cursor": None, "total": len(rows),
            "total_exact": True}
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=OfferingOut,
    summary="Publish an offering",
    description="By the provider's staff or systems, in a region where the provider is "
    "approved (else 409, type `/problems/not-accredited`). Municipalities must belong to that "
    "region; languages are ISO 639-1 codes; the unit price is in euro cents. The premises' "
    "street address, postcode and post office go together (all or none); accessibility is "
    "a list of known features with a short text; `accepting_new_customers` says whether new "
    "customers are taken now. Emits `offering.published`. Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 409, 422),
)
async def publish(body: OfferingIn, rt: RuntimeDep, principal: PrincipalDep,
                  idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await offerings.publish(rt.db, body, principal=principal, key=idempotency_key)
    return once_response(once, 201)


@router.get(
    "/{offering_id}",
    response_model=OfferingOut,
    summary="One offering",
    description="Public while visible; the provider and the region's admins also see it "
    "when hidden or withdrawn. `ETag` carries the version for `If-Match`.",
    responses=problems(401, 404),
)
async def get(offering_id: str, rt: RuntimeDep,
              principal: OptionalPrincipalDep) -> JSONResponse:
    return versioned_model(await offerings.get(rt.db, offering_id, principal))


@router.put(
    "/{offering_id}",
    response_model=OfferingOut,
    summary="Update an offering",
    description="By the provider's staff: replaces the offering's details (not its region); "
    "each part that changed (details, places, premises) gets its own `…_updated_at`. "
    "`If-Match` with the version guards against lost updates (412). A withdrawn offering "
    "cannot be changed (409). Emits `offering.updated`.",
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def update(offering_id: str, body: OfferingIn, rt: RuntimeDep, principal: PrincipalDep,
                 if_match: IfMatchDep) -> JSONResponse:
    return versioned_model(await offerings.update(rt.db, offering_id, body,
                                                  principal=principal, if_match=if_match))


@router.post(
    "/{offering_id}/withdrawal",
    response_model=OfferingOut,
    summary="Withdraw an offering",
    description="By the provider's staff: the offering leaves the search at once. Emits "
    "`offering.withdrawn`; withdrawing twice is a 409.",
    responses=problems(401, 403, 404, 409, 412),
)
async def withdraw(offering_id: str, rt: RuntimeDep, principal: PrincipalDep,
                   if_match: IfMatchDep) -> JSONResponse:
    return versioned_model(await offerings.withdraw(rt.db, offering_id, principal=principal,
                                                    if_match=if_match))
