"""Regions with their municipalities, and the service-type catalogue."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from contracts.registry import LocalizedText, PaymentMilestone, ServiceTypeAdded
from kit import audit
from kit.db import Database
from kit.errors import NotFound
from kit.idempotency import Once, run_once
from kit.outbox import add_event
from services.registry import repository
from services.registry.models import ServiceType, audit_log, plumbing
from services.registry.problems import DuplicateServiceType
from services.registry.schemas import RegionOut, ServiceTypeIn, ServiceTypeOut
from services.registry.use_cases.common import key_scope, now


async def regions(db: Database) -> list[RegionOut]:
    async with db.reader() as s:
        return [RegionOut.model_validate(r) for r in await repository.regions(s)]


async def region(db: Database, code: str) -> RegionOut:
    async with db.reader() as s:
        r = await repository.region(s, code)
        if r is None:
            raise NotFound("no such region")
        return RegionOut.model_validate(r)


async def service_types(db: Database) -> list[ServiceTypeOut]:
    async with db.reader() as s:
        return [ServiceTypeOut.model_validate(t) for t in await repository.service_types(s)]


async def add_service_type(db: Database, body: ServiceTypeIn, *, principal: Principal,
                           key: str | None) -> Once[ServiceTypeOut]:
    async def add(s: AsyncSession) -> ServiceTypeOut:
        if await repository.service_type(s, body.code):
            raise DuplicateServiceType(body.code)
        scheme = [m.model_dump() for m in body.payment_scheme]
        service_type = ServiceType(code=body.code, name=body.name.model_dump(),
                                   payment_scheme=scheme, created_at=now())
        s.add(service_type)
        try:
            await s.flush()
        except IntegrityError as exc:
            raise DuplicateServiceType(body.code) from exc
        await audit.record(s, audit_log, actor=principal, action="service_type.added",
                           subject_type="service_type", subject_id=service_type.code,
                           region=principal.region, reason="catalogue extended",
                           details={"payment_scheme": scheme})
        await add_event(s, plumbing, ServiceTypeAdded(
            code=service_type.code, names=LocalizedText(**service_type.name),
            payment_scheme=[PaymentMilestone(**m) for m in scheme]), resource=service_type.code)
        return ServiceTypeOut.model_validate(service_type)

    return await run_once(db, plumbing, scope=key_scope(principal, "POST /service-types"),
                          key=key, payload=body.model_dump(mode="json"), change=add,
                          answer=ServiceTypeOut)
