"""Offerings: public search, and publishing, changing and withdrawing by the provider."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import RowMapping

from kit.auth import OptionalPrincipalDep, PrincipalDep
from kit.errors import Unprocessable, problems
from kit.pagination import Cursor, LimitQuery
from kit.runtime import RuntimeDep
from services.registry import repository, service
from services.registry.api.common import IdempotencyKey, IfMatch, outcome_response, tagged
from services.registry.domain.languages import ISO_639_1
from services.registry.schemas import OfferingIn, OfferingOut, OfferingPage

router = APIRouter(prefix="/offerings", tags=["offerings"])


def _after(cursor: str | None) -> tuple[date, str] | None:
    if not cursor:
        return None
    state = Cursor.decode(cursor)
    try:
        return date.fromisoformat(state["start"]), str(state["id"])
    except (KeyError, ValueError, TypeError):
        raise Unprocessable.field("cursor", "is not a cursor this API returned") from None


@router.get(
    "",
    response_model=OfferingPage,
    summary="Search offerings",
    description="Public search over the offerings of providers accredited in the offering's "
    "region: a suspended, revoked or expired accreditation hides them at once. Filters "
    "combine; `q` matches every word (case-insensitive, as a substring) in the provider's "
    "name, the title and the description in any language. Sorted by next start date, then "
    "id (stable); cursor paginated; `total` counts every match.\n\n"
    "`visibility=all` also returns hidden and withdrawn offerings: for a provider's staff "
    "(their own offerings) and a region admin (their region's).",
    responses=problems(401, 403, 422),
)
async def search(
    rt: RuntimeDep,
    principal: OptionalPrincipalDep,
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
    cursor: Annotated[str | None, Query(max_length=500, description="from next_cursor")] = None,
) -> Response:
    if language is not None and language not in ISO_639_1:
        raise Unprocessable.field("language", f"'{language}' is not an ISO 639-1 language code")
    after = _after(cursor)
    scope = service.search_scope(principal, visibility=visibility, provider_id=provider_id,
                                 region=region)
    f = repository.OfferingFilter(provider_id=scope.provider_id, everything=scope.everything,
                                  region=scope.region, service_type=service_type,
                                  municipality=municipality, language=language, remote=remote,
                                  text=q)
    async with rt.db.reader() as s:
        rows, total = await repository.search_offerings(s, f, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    page = {
        "items": [_search_item(r) for r in rows],
        "next_cursor": Cursor.encode({"start": last["next_start"].isoformat(), "id": last["id"]})
        if more and last else None,
        "total": total,
    }
    # Built from plain rows and serialised once: the response model above documents it.
    return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")


def _search_item(r: RowMapping) -> dict[str, Any]:
    return {
        "id": r["id"], "provider_id": r["provider_id"], "provider_name": r["provider_name"],
        "region": r["region_code"], "service_type": r["service_type"], "title": r["title"],
        "description": r["description"], "municipalities": r["municipalities"],
        "remote": r["remote"], "languages": r["languages"],
        "unit_price_cents": r["unit_price_cents"], "capacity": r["capacity"],
        "next_start": r["next_start"], "duration_days": r["duration_days"],
        "status": r["status"], "visible": r["visible"], "version": r["version"],
        "updated_at": r["updated_at"],
    }


@router.post(
    "",
    status_code=201,
    response_model=OfferingOut,
    summary="Publish an offering",
    description="By the provider's staff or systems, in a region where the provider is "
    "approved (else 409, type `/problems/not-accredited`). Municipalities must belong to that "
    "region; languages are ISO 639-1 codes; the unit price is in euro cents. Emits "
    "`offering.published`. Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 409, 422),
)
async def publish(body: OfferingIn, rt: RuntimeDep, principal: PrincipalDep,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.publish_offering(rt.db, body, principal=principal,
                                             key=idempotency_key)
    return outcome_response(outcome)


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
    out = await service.get_offering(rt.db, offering_id, principal)
    return tagged(out.model_dump(mode="json"))


@router.put(
    "/{offering_id}",
    response_model=OfferingOut,
    summary="Update an offering",
    description="By the provider's staff: replaces the offering's details (not its region). "
    "`If-Match` with the version guards against lost updates (412). A withdrawn offering "
    "cannot be changed (409). Emits `offering.updated`.",
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def update(offering_id: str, body: OfferingIn, rt: RuntimeDep, principal: PrincipalDep,
                 if_match: IfMatch = None) -> JSONResponse:
    out = await service.update_offering(rt.db, offering_id, body, principal=principal,
                                        if_match=if_match)
    return tagged(out.model_dump(mode="json"))


@router.post(
    "/{offering_id}/withdrawal",
    response_model=OfferingOut,
    summary="Withdraw an offering",
    description="By the provider's staff: the offering leaves the search at once. Emits "
    "`offering.withdrawn`; withdrawing twice is a 409.",
    responses=problems(401, 403, 404, 409, 412),
)
async def withdraw(offering_id: str, rt: RuntimeDep, principal: PrincipalDep,
                   if_match: IfMatch = None) -> JSONResponse:
    out = await service.withdraw_offering(rt.db, offering_id, principal=principal,
                                          if_match=if_match)
    return tagged(out.model_dump(mode="json"))
