"""Regions with their municipalities, and the service-type catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.runtime import RuntimeDep
from services.registry.schemas import RegionOut, ServiceTypeIn, ServiceTypeOut
from services.registry.use_cases import catalogue

router = APIRouter(tags=["catalogue"])


@router.get(
    "/regions",
    response_model=list[RegionOut],
    summary="Regions and their municipalities",
    description="Every region (organiser) with its municipalities, by Statistics Finland "
    "municipality code (three digits, e.g. Tampere 837), names in Finnish, Swedish and English.",
)
async def regions(rt: RuntimeDep) -> list[RegionOut]:
    return await catalogue.regions(rt.db)


@router.get(
    "/regions/{code}",
    response_model=RegionOut,
    summary="One region with its municipalities",
    description="`code` is the region's slug, e.g. `pirkanmaa`, `pohjois-pohjanmaa`, "
    "`etela-pohjanmaa`.",
    responses=problems(404),
)
async def region(code: str, rt: RuntimeDep) -> RegionOut:
    return await catalogue.region(rt.db, code)


@router.get(
    "/service-types",
    response_model=list[ServiceTypeOut],
    summary="The service-type catalogue",
    description="Every service type with its names and its default payment scheme: "
    "milestones and their shares of the voucher value in basis points (summing to 10 000, "
    "i.e. 100 %).",
)
async def service_types(rt: RuntimeDep) -> list[ServiceTypeOut]:
    return await catalogue.service_types(rt.db)


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
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    once = await catalogue.add_service_type(rt.db, body, principal=principal,
                                            key=idempotency_key)
    return once_response(once, 201)
