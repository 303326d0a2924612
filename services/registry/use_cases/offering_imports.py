"""Offering imports: many offerings of one provider published in one transaction, with the same
validation and events as publishing them one by one, all or none."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import registry as events
from contracts.events import uuid7
from contracts.principal import Principal
from kit.db import Database
from kit.errors import FieldError, NotFound
from kit.idempotency import Once, run_once
from kit.outbox import add_events
from services.registry import access, repository
from services.registry.domain.accreditation import AccreditationState, choosable
from services.registry.models import Offering, plumbing
from services.registry.schemas import ImportedRow, OfferingImportIn, OfferingImportOut
from services.registry.use_cases.common import key_scope, now
from services.registry.use_cases.offerings import (
    PUBLISHED,
    event_of,
    known,
    refusals,
    refuse,
    set_from,
)


async def import_offerings(db: Database, body: OfferingImportIn, *, principal: Principal,
                           key: str | None) -> Once[OfferingImportOut]:
    """Publish every item, or refuse the lot (422 naming each wrong row's fields as
    ``items.<index>.<field>``) and write nothing."""
    provider_id = access.staff_provider_id(principal)

    async def create(s: AsyncSession) -> OfferingImportOut:
        k = await known(s, body.items)
        errors: list[FieldError] = []
        for i, item in enumerate(body.items):
            errors += refusals(item, k, at=f"items.{i}.")
        p = await repository.provider(s, provider_id)
        # Shared locks, as in publishing one: a suspension decided meanwhile waits.
        accredited = set()
        for region in sorted({item.region for item in body.items} & k.regions):
            acc = await repository.accreditation(s, provider_id, region, for_share=True)
            if p is not None and acc is not None and choosable(AccreditationState(acc.state)):
                accredited.add(region)
        errors += [FieldError(field=f"items.{i}.region",
                              message=f"the provider is not approved in region '{item.region}'")
                   for i, item in enumerate(body.items)
                   if item.region in k.regions and item.region not in accredited]
        refuse(errors)
        if p is None:  # then no row is accredited and the lot was refused above
            raise NotFound("no such provider")
        at = now()
        made = []
        for item in body.items:
            o = Offering(id=str(uuid7()), provider_id=provider_id, region_code=item.region,
                         provider_name=p.legal_name, status=PUBLISHED, visible=True,
                         created_at=at, updated_at=at, version=1)
            set_from(o, item, at)
            made.append(o)
        await repository.add_offerings(s, made)
        await add_events(s, plumbing, [(event_of(events.OfferingPublished, o), o.id)
                                       for o in made])
        return OfferingImportOut(created=len(made), items=[
            ImportedRow(index=i, id=o.id, region=o.region_code, next_start=o.next_start)
            for i, o in enumerate(made)])

    return await run_once(db, plumbing, scope=key_scope(principal, "POST /offerings/imports"),
                          key=key, payload=body.model_dump(mode="json"), change=create,
                          answer=OfferingImportOut)
