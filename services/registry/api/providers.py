from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from kit.app import RuntimeDep
from kit.errors import NotFound, problems
from kit.pagination import Cursor, LimitQuery
from services.registry import repository, service
from services.registry.schemas import ProviderApplication, ProviderOut, ProviderPage

router = APIRouter(prefix="/providers", tags=["providers"])


@router.post(
    "",
    status_code=201,
    response_model=ProviderOut,
    summary="Apply to become a provider",
    description="Creates a provider application. Accepts `Idempotency-Key`: a retry with the "
    "same key and body returns the first answer and creates nothing new.",
    responses=problems(409, 422),
)
async def apply(
    body: ProviderApplication,
    rt: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    outcome = await service.apply(rt.db, body, key=idempotency_key)
    return JSONResponse(outcome.body, status_code=outcome.status_code)


@router.get("/{provider_id}", response_model=ProviderOut, responses=problems(404))
async def get_provider(provider_id: str, rt: RuntimeDep) -> ProviderOut:
    async with rt.db.reader() as s:
        p = await repository.provider(s, provider_id)
    if p is None:
        raise NotFound("no such provider")
    return service.provider_out(p)


@router.get("", response_model=ProviderPage, responses=problems(422))
async def list_providers(
    rt: RuntimeDep, limit: LimitQuery = 50, cursor: Annotated[str | None, Query()] = None
) -> ProviderPage:
    after = Cursor.decode(cursor).get("after") if cursor else None
    async with rt.db.reader() as s:
        rows = await repository.providers_page(s, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return ProviderPage(
        items=[service.provider_out(p) for p in rows],
        next_cursor=Cursor.encode({"after": rows[-1].id}) if more else None,
    )
