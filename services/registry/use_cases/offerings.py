"""Offerings: publishing, changing and withdrawing by the provider's staff; one offering; the
search."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import registry as events
from contracts.events import uuid7
from contracts.principal import Principal
from kit.db import Database
from kit.errors import FieldError, NotFound, Unprocessable
from kit.idempotency import Once, run_once
from kit.outbox import add_event
from kit.versioning import IfMatch
from services.registry import access, repository, search_index
from services.registry.domain.accreditation import AccreditationState, choosable
from services.registry.domain.premises import PARTS, changed_parts
from services.registry.domain.search import query_words
from services.registry.models import Offering, plumbing
from services.registry.problems import NotAccredited, OfferingWithdrawn
from services.registry.schemas import OfferingIn, OfferingOut, OfferingPosition, OfferingSearch
from services.registry.schemas.offerings import PREMISES
from services.registry.use_cases.common import key_scope, now

PUBLISHED, WITHDRAWN = "published", "withdrawn"
# The columns the body sets; region is set once, at publishing.
CHANGEABLE = frozenset(OfferingIn.model_fields) - {"region"}


def offering_out(o: Offering) -> OfferingOut:
    return OfferingOut.model_validate(o)


def event_of(cls: type[events.OfferingEvent], o: Offering) -> events.OfferingEvent:
    """The event carries the offering's public fields that its contract names."""
    return cls.model_validate(offering_out(o).model_dump(mode="json") | {"offering_id": o.id})


def set_from(o: Offering, body: OfferingIn, at: datetime) -> None:
    """Set the body's fields; each part (domain/premises.py) that changed is dated ``at``
    (every part of a new offering)."""
    values = body.model_dump(include=set(CHANGEABLE))
    values["municipalities"] = sorted(set(body.municipalities))
    new = o.details_updated_at is None
    before = {} if new else {name: getattr(o, name) for name in values}
    parts = set(PARTS) if new else changed_parts(before, values)
    for name, value in values.items():
        setattr(o, name, value)
    for part in parts:
        setattr(o, f"{part}_updated_at", at)


@dataclass(frozen=True)
class Known:
    """What validation looks up: regions, service types and municipalities' regions."""

    regions: frozenset[str]
    service_types: frozenset[str]
    region_of: dict[str, str]


async def known(s: AsyncSession, bodies: list[OfferingIn]) -> Known:
    codes = sorted({c for b in bodies for c in b.municipalities})
    return Known(regions=frozenset(await repository.region_codes(s)),
                 service_types=frozenset(await repository.service_type_codes(s)),
                 region_of=await repository.municipality_regions(s, codes))


def refusals(body: OfferingIn, k: Known, at: str = "") -> list[FieldError]:
    """What is wrong with ``body`` beyond its shape (field names prefixed with ``at``)."""
    errors: list[FieldError] = []
    if body.region not in k.regions:
        errors.append(FieldError(field=f"{at}region", message=f"unknown region '{body.region}'"))
    if body.service_type not in k.service_types:
        errors.append(FieldError(field=f"{at}service_type",
                                 message=f"unknown service type '{body.service_type}'"))
    for i, code in enumerate(body.municipalities):
        if code not in k.region_of:
            errors.append(FieldError(field=f"{at}municipalities.{i}",
                                     message=f"unknown municipality code '{code}'"))
        elif k.region_of[code] != body.region:
            errors.append(FieldError(
                field=f"{at}municipalities.{i}",
                message=f"municipality '{code}' is not in region '{body.region}'"))
    given = [name for name in PREMISES if getattr(body, name) is not None]
    if given:
        errors += [FieldError(field=f"{at}{name}", message="give the street address, postcode "
                              "and post office together, or none of them")
                   for name in PREMISES if name not in given]
    return errors


def refuse(errors: list[FieldError]) -> None:
    if errors:
        raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors[:20]),
                            errors=errors)


async def _validate(s: AsyncSession, body: OfferingIn) -> None:
    refuse(refusals(body, await known(s, [body])))


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
        set_from(o, body, at)
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
        o.updated_at = now()
        set_from(o, body, o.updated_at)
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
        await search_index.set_visible(s, o.id, False)
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
    """One page of the search as plain rows (keys: the fields of :class:`OfferingOut`);
    ``total`` is exact when ``total_exact``, else there are more than ``total`` matches."""

    items: list[RowMapping]
    next: OfferingPosition | None
    total: int
    total_exact: bool


async def search(db: Database, viewer: Principal | None, wanted: OfferingSearch, *,
                 visibility: str, after: OfferingPosition | None, limit: int) -> SearchResult:
    from services.registry.domain.places import finnish_place_names

    scope = access.offering_scope(viewer, visibility=visibility,
                                  provider_id=wanted.provider_id, region=wanted.region)
    wanted = replace(wanted, text=finnish_place_names(wanted.text))  # Tammerfors: Tampere
    scoped = replace(wanted, provider_id=scope.provider_id, region=scope.region)
    async with db.reader() as s:
        found = await search_index.search(
            s, scoped, query_words(wanted.text), include_hidden=scope.include_hidden,
            after=(after.tier, after.key) if after else None, limit=limit)
        page = found.rows[:limit]
        rows = await repository.offering_rows(s, [oid for _, _, oid in page],
                                              list(OfferingOut.model_fields))
    more = len(found.rows) > limit and page
    nxt = OfferingPosition(tier=page[-1][0], key=page[-1][1]) if more else None
    return SearchResult(rows, nxt, found.total, found.exact)


MAX_IDS = 50


async def named(db: Database, viewer: Principal | None, ids: list[str]) -> list[RowMapping]:
    """The offerings ``ids`` the viewer may see (as :func:`get`), in the order asked; unknown
    ones are left out."""
    wanted = list(dict.fromkeys(ids))
    async with db.reader() as s:
        rows = await repository.offering_rows(s, wanted, list(OfferingOut.model_fields))
    return [r for r in rows if r["visible"] or access.is_own_provider(viewer, r["provider_id"])
            or access.is_admin_of(viewer, r["region"])]
