from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.app import RuntimeDep
from kit.auth import require
from kit.errors import NotFound, problems
from services.registry import repository, service
from services.registry.schemas import MunicipalityOut, RegionOut, ServiceTypeIn, ServiceTypeOut

router = APIRouter(tags=["catalogue"])


@router.get("/regions", response_model=list[RegionOut], summary="Regions and municipalities")
async def regions(rt: RuntimeDep) -> list[RegionOut]:
    async with rt.db.reader() as s:
        regs = await repository.regions(s)
        munis = await repository.municipalities(s)
    return [
        RegionOut(code=r.code, name=r.name, municipalities=[
            MunicipalityOut(code=m.code, name=m.name) for m in munis if m.region_code == r.code])
        for r in regs
    ]


@router.get("/regions/{code}", response_model=RegionOut, responses=problems(404),
            summary="One region with its municipalities (Statistics Finland codes)")
async def region(code: str, rt: RuntimeDep) -> RegionOut:
    async with rt.db.reader() as s:
        r = await repository.region(s, code)
        munis = await repository.municipalities(s, code) if r else []
    if r is None:
        raise NotFound("no such region")
    return RegionOut(code=r.code, name=r.name,
                     municipalities=[MunicipalityOut(code=m.code, name=m.name) for m in munis])


@router.get("/service-types", response_model=list[ServiceTypeOut],
            summary="The service-type catalogue with default payment schemes")
async def service_types(rt: RuntimeDep) -> list[ServiceTypeOut]:
    async with rt.db.reader() as s:
        return [service.service_type_out(t) for t in await repository.service_types(s)]


@router.post(
    "/service-types",
    status_code=201,
    response_model=ServiceTypeOut,
    summary="Add a service type (region admins)",
    description="The payment scheme's shares are basis points and must sum to 10 000 "
    "(100 %). Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 409, 422),
)
async def add_service_type(
    body: ServiceTypeIn, rt: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.region_admin))],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    outcome = await service.add_service_type(rt.db, body, principal=principal,
                                             key=idempotency_key)
    return JSONResponse(outcome.body, status_code=outcome.status_code)
