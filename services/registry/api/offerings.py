from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import RowMapping

from kit.app import RuntimeDep
from kit.auth import OptionalPrincipalDep, PrincipalDep
from kit.errors import Unprocessable, problems
from kit.pagination import Cursor, LimitQuery
from services.registry import repository, service
from services.registry.schemas import OfferingIn, OfferingOut, OfferingPage

router = APIRouter(prefix="/offerings", tags=["offerings"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


@router.get(
    "",
    response_model=OfferingPage,
    summary="Search offerings",
    description="Public search over the offerings of providers accredited in the offering's "
    "region. Filters combine; `q` matches every word in the provider's name, the title and "
    "the description. Sorted by next start date, then id (stable); cursor paginated; `total` "
    "counts every match.",
    responses=problems(422),
)
async def search(
    rt: RuntimeDep,
    region: Annotated[str | None, Query(max_length=40)] = None,
    service_type: Annotated[str | None, Query(max_length=60)] = None,
    municipality: Annotated[str | None, Query(pattern=r"^[0-9]{3}$")] = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2}$")] = None,
    remote: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: LimitQuery = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    after = None
    if cursor:
        state = Cursor.decode(cursor)
        try:
            after = (date.fromisoformat(state["start"]), str(state["id"]))
        except (KeyError, ValueError, TypeError):
            raise Unprocessable.field("cursor", "is not a cursor this API returned") from None
    f = repository.OfferingFilter(region=region, service_type=service_type,
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
        "status": r["status"], "version": r["version"], "updated_at": r["updated_at"],
    }


@router.post(
    "",
    status_code=201,
    response_model=OfferingOut,
    summary="Publish an offering",
    description="By the provider's staff or systems, in a region where the provider is "
    "accredited. Municipalities must belong to that region. Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 409, 422),
)
async def publish(body: OfferingIn, rt: RuntimeDep, principal: PrincipalDep,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    outcome = await service.publish_offering(rt.db, body, principal=principal,
                                             key=idempotency_key)
    return JSONResponse(outcome.body, status_code=outcome.status_code)


@router.get("/{offering_id}", response_model=OfferingOut, responses=problems(404),
            summary="One offering")
async def get(offering_id: str, rt: RuntimeDep, principal: OptionalPrincipalDep) -> OfferingOut:
    return await service.get_offering(rt.db, offering_id, principal)


@router.put(
    "/{offering_id}",
    response_model=OfferingOut,
    summary="Update an offering",
    description="Replaces the offering's details (not its region). `If-Match` with the "
    "version guards against lost updates.",
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def update(offering_id: str, body: OfferingIn, rt: RuntimeDep, principal: PrincipalDep,
                 if_match: IfMatch = None) -> OfferingOut:
    return await service.update_offering(rt.db, offering_id, body, principal=principal,
                                         if_match=if_match)


@router.post(
    "/{offering_id}/withdrawal",
    response_model=OfferingOut,
    summary="Withdraw an offering",
    responses=problems(401, 403, 404, 409, 412),
)
async def withdraw(offering_id: str, rt: RuntimeDep, principal: PrincipalDep,
                   if_match: IfMatch = None) -> OfferingOut:
    return await service.withdraw_offering(rt.db, offering_id, principal=principal,
                                           if_match=if_match)
