"""Regions with their municipalities, and the service-type catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import NotFound, problems
from kit.runtime import RuntimeDep
from services.registry import repository, service
from services.registry.api.common import IdempotencyKey, outcome_response
from services.registry.schemas import MunicipalityOut, RegionOut, ServiceTypeIn, ServiceTypeOut

router = APIRouter(tags=["catalogue"])


@router.get(
    "/regions",
    response_model=list[RegionOut],
    summary="Regions and their municipalities",
    description="Every region (organiser) with its municipalities, by Statistics Finland "
    "municipality code (three digits, e.g. Tampere 837), names in Finnish, Swedish and English.",
)
async def regions(rt: RuntimeDep) -> list[RegionOut]:
    async with rt.db.reader() as s:
        regs = await repository.regions(s)
        munis = await repository.municipalities(s)
    return [
        RegionOut(code=r.code, name=r.name, municipalities=[
            MunicipalityOut(code=m.code, name=m.name) for m in munis if m.region_code == r.code])
        for r in regs
    ]


@router.get(
    "/regions/{code}",
    response_model=RegionOut,
    summary="One region with its municipalities",
    description="`code` is the region's slug, e.g. `pirkanmaa`, `pohjois-pohjanmaa`, "
    "`etela-pohjanmaa`.",
    responses=problems(404),
)
async def region(code: str, rt: RuntimeDep) -> RegionOut:
    async with rt.db.reader() as s:
        r = await repository.region(s, code)
        munis = await repository.municipalities(s, code) if r else []
    if r is None:
        raise NotFound("no such region")
    return RegionOut(code=r.code, name=r.name,
                     municipalities=[MunicipalityOut(code=m.code, name=m.name) for m in munis])


@router.get(
    "/service-types",
    response_model=list[ServiceTypeOut],
    summary="The service-type catalogue",
    description="Every service type with its names and its default payment scheme: "
    "milestones and their shares of the voucher value in basis points (summing to 10 000, "
    "i.e. 100 %).",
)
async def service_types(rt: RuntimeDep) -> list[ServiceTypeOut]:
    async with rt.db.reader() as s:
        return [service.service_type_out(t) for t in await repository.service_types(s)]


@router.post(
    "/service-types",
    status_code=201,
    response_model=ServiceTypeOut,
    summary="Add a service type (region admins)",
    description="The payment scheme's shares are basis points and must sum to 10 000 "
    "(100 %); milestone codes are unique. A code that exists already is a 409. Audited; emits "
    "`service_type.added`. Accepts `Idempotency-Key`.",
    responses=problems(401, 403, 409, 422),
)
async def add_service_type(
    body: ServiceTypeIn, rt: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.region_admin))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    outcome = await service.add_service_type(rt.db, body, principal=principal,
                                             key=idempotency_key)
    return outcome_response(outcome)
