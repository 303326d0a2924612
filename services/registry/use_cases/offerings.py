"""Offerings: publishing, changing and withdrawing by the provider's staff; one offering; the
search."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import registry as events
from contracts.events import uuid7
from contracts.principal import Principal
from kit.db import Database
from kit.errors import FieldError, NotFound, Unprocessable
from kit.idempotency import Once, run_once
from kit.outbox import add_event
from kit.pagination import paginate
from kit.versioning import IfMatch
from services.registry import access, repository
from services.registry.domain.accreditation import AccreditationState, choosable
from services.registry.domain.search import search_text
from services.registry.models import Offering, plumbing
from services.registry.problems import NotAccredited, OfferingWithdrawn
from services.registry.schemas import OfferingIn, OfferingOut, OfferingPosition, OfferingSearch
from services.registry.use_cases.common import key_scope, now

PUBLISHED, WITHDRAWN = "published", "withdrawn"
# The columns the body sets; region is set once, at publishing.
CHANGEABLE = frozenset(OfferingIn.model_fields) - {"region"}


def offering_out(o: Offering) -> OfferingOut:
    return OfferingOut.model_validate(o)


def event_of(cls: type[events.OfferingEvent], o: Offering) -> events.OfferingEvent:
    """The event carries the offering's public fields that its contract names."""
    return cls.model_validate(offering_out(o).model_dump(mode="json") | {"offering_id": o.id})


def _set_from(o: Offering, body: OfferingIn) -> None:
    values = body.model_dump(include=set(CHANGEABLE))
    values["municipalities"] = sorted(set(body.municipalities))
    for name, value in values.items():
        setattr(o, name, value)
    o.search_text = search_text(o.title, o.description, o.provider_name)


async def _validate(s: AsyncSession, body: OfferingIn) -> None:
    errors: list[FieldError] = []
    if await repository.region(s, body.region) is None:
        errors.append(FieldError(field="region", message=f"unknown region '{body.region}'"))
    if await repository.service_type(s, body.service_type) is None:
        errors.append(FieldError(field="service_type",
                                 message=f"unknown service type '{body.service_type}'"))
    regions_of = await repository.municipality_regions(s, body.municipalities)
    for i, code in enumerate(body.municipalities):
        if code not in regions_of:
            errors.append(FieldError(field=f"municipalities.{i}",
                                     message=f"unknown municipality code '{code}'"))
        elif regions_of[code] != body.region:
            errors.append(FieldError(
                field=f"municipalities.{i}",
                message=f"municipality '{code}' is not in region '{body.region}'"))
    if errors:
        raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


async def publish(db: Database, body: OfferingIn, *, principal: Principal,
                  key: str | None) -> Once[OfferingOut]:
    provider_id = access.staff_provider_id(principal)

    async def create_offering(s: AsyncSession) -> OfferingOut:
        await _validate(s, body)
        p = await repository.provider(s, provider_id)
        # Shared lock: a suspension decided meanwhile waits for this offering to exist, and
        # then hides it with the provider's other offerings.
        acc = await repository.accreditation(s, provider_id, body.region, for_share=True)
        if p is None or acc is None or not choosable(AccreditationState(acc.state)):
            raise NotAccredited(body.region)
        at = now()
        o = Offering(id=str(uuid7()), provider_id=provider_id, region_code=body.region,
                     provider_name=p.legal_name, status=PUBLISHED, visible=True,
                     created_at=at, updated_at=at, version=1)
        _set_from(o, body)
        s.add(o)
        await s.flush()
        await repository.replace_offering_facets(s, o)
        await add_event(s, plumbing, event_of(events.OfferingPublished, o), resource=o.id)
        return offering_out(o)

    return await run_once(db, plumbing, scope=key_scope(principal, "POST /offerings"), key=key,
                          payload=body.model_dump(mode="json"), change=create_offering,
                          answer=OfferingOut)


async def _own(s: AsyncSession, offering_id: str, provider_id: str) -> Offering:
    o = await repository.offering(s, offering_id, for_update=True)
    if o is None or o.provider_id != provider_id:
        raise NotFound("no such offering")
    return o


async def update(db: Database, offering_id: str, body: OfferingIn, *, principal: Principal,
                 if_match: IfMatch) -> OfferingOut:
    provider_id = access.staff_provider_id(principal)
    async with db.session() as s:
        o = await _own(s, offering_id, provider_id)
        if_match.check(o.version)
        if o.status != PUBLISHED:
            raise OfferingWithdrawn("a withdrawn offering cannot be changed; publish a new one")
        if body.region != o.region_code:
            raise Unprocessable.field("region", "an offering cannot move to another region; "
                                      "withdraw it and publish a new one there")
        await _validate(s, body)
        _set_from(o, body)
        o.updated_at = now()
        o.version += 1
        await s.flush()
        await repository.replace_offering_facets(s, o)
        await add_event(s, plumbing, event_of(events.OfferingUpdated, o), resource=o.id)
        out = offering_out(o)
        await s.commit()
    return out


async def withdraw(db: Database, offering_id: str, *, principal: Principal,
                   if_match: IfMatch) -> OfferingOut:
    provider_id = access.staff_provider_id(principal)
    async with db.session() as s:
        o = await _own(s, offering_id, provider_id)
        if_match.check(o.version)
        if o.status == WITHDRAWN:
            raise OfferingWithdrawn("the offering is already withdrawn")
        o.status = WITHDRAWN
        o.visible = False
        o.updated_at = now()
        o.version += 1
        await s.flush()
        await add_event(s, plumbing, event_of(events.OfferingWithdrawn, o), resource=o.id)
        out = offering_out(o)
        await s.commit()
    return out


async def get(db: Database, offering_id: str, viewer: Principal | None) -> OfferingOut:
    async with db.reader() as s:
        o = await repository.offering(s, offering_id)
    if o is None or not access.can_see_offering(o, viewer):
        raise NotFound("no such offering")
    return offering_out(o)


@dataclass(frozen=True)
class SearchResult:
    """One page of the search as plain rows (keys: the fields of :class:`OfferingOut`)."""

    items: list[RowMapping]
    next: OfferingPosition | None
    total: int


async def search(db: Database, viewer: Principal | None, wanted: OfferingSearch, *,
                 visibility: str, after: OfferingPosition | None, limit: int) -> SearchResult:
    from services.registry.domain.places import finnish_place_names

    scope = access.offering_scope(viewer, visibility=visibility,
                                  provider_id=wanted.provider_id, region=wanted.region)
    wanted = replace(wanted, text=finnish_place_names(wanted.text))  # Tammerfors: Tampere
    scoped = replace(wanted, provider_id=scope.provider_id, region=scope.region)
    async with db.reader() as s:
        rows, total = await repository.search_offerings(
            s, scoped, include_hidden=scope.include_hidden, fields=list(OfferingOut.model_fields),
            after=(after.start, after.id) if after else None, limit=limit)
    page = paginate(rows, limit, _position)
    return SearchResult(page.items, page.next, total)


def _position(row: Any) -> OfferingPosition:
    return OfferingPosition(start=row["next_start"], id=row["id"])
