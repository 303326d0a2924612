"""Queries of the registry. Flushes, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    and_,
    delete,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import search_index
from services.registry.domain.accreditation import EXPIRABLE
from services.registry.models import (
    Accreditation,
    ApiKey,
    Municipality,
    Offering,
    OfferingLanguage,
    OfferingMunicipality,
    Provider,
    Region,
    ServiceType,
    audit_log,
)


async def provider_by_business_id(s: AsyncSession, business_id: str) -> Provider | None:
    return await s.scalar(select(Provider).where(Provider.business_id == business_id))


async def provider(s: AsyncSession, provider_id: str, *, for_update: bool = False
                   ) -> Provider | None:
    q = select(Provider).where(Provider.id == provider_id)
    if for_update:
        q = q.with_for_update()
    return await s.scalar(q)


async def accreditations(s: AsyncSession, provider_ids: Sequence[str]) -> list[Accreditation]:
    if not provider_ids:
        return []
    q = select(Accreditation).where(Accreditation.provider_id.in_(provider_ids))
    return list((await s.scalars(q.order_by(Accreditation.region_code))).all())


async def accreditation(
    s: AsyncSession, provider_id: str, region: str, *, for_update: bool = False,
    for_share: bool = False,
) -> Accreditation | None:
    """One accreditation; ``for_update`` locks it for a decision, ``for_share`` keeps decisions
    out until this transaction ends (PostgreSQL; SQLite has one writer at a time anyway)."""
    q = select(Accreditation).where(
        Accreditation.provider_id == provider_id, Accreditation.region_code == region
    )
    if for_update:
        q = q.with_for_update()
    elif for_share:
        q = q.with_for_update(read=True)
    return await s.scalar(q)


async def providers_page(
    s: AsyncSession,
    *,
    after: str | None,
    limit: int,
    region: str | None,
    states: Sequence[str] | None,
) -> list[Provider]:
    q = select(Provider).order_by(Provider.id).limit(limit + 1)
    if after:
        q = q.where(Provider.id > after)
    if region or states:
        cond = [Accreditation.provider_id == Provider.id]
        if region:
            cond.append(Accreditation.region_code == region)
        if states:
            cond.append(Accreditation.state.in_(states))
        q = q.where(exists().where(and_(*cond)))
    return list((await s.scalars(q)).all())


async def due_for_expiry(
    s: AsyncSession, today: date, region: str | None
) -> list[Accreditation]:
    """Accreditations in a state that can expire whose ``valid_until`` is before ``today``,
    locked for the expiry."""
    q = select(Accreditation).where(
        Accreditation.state.in_(sorted(EXPIRABLE)),
        Accreditation.valid_until < today,
    )
    if region:
        q = q.where(Accreditation.region_code == region)
    return list((await s.scalars(q.with_for_update())).all())


async def regions(s: AsyncSession) -> list[Region]:
    return list((await s.scalars(select(Region).order_by(Region.code))).all())


async def region_codes(s: AsyncSession) -> list[str]:
    return list((await s.scalars(select(Region.code))).all())


async def service_type_codes(s: AsyncSession) -> list[str]:
    return list((await s.scalars(select(ServiceType.code))).all())


async def region(s: AsyncSession, code: str) -> Region | None:
    return await s.get(Region, code)


async def municipalities(s: AsyncSession, region_code: str | None = None) -> list[Municipality]:
    q = select(Municipality).order_by(Municipality.code)
    if region_code:
        q = q.where(Municipality.region_code == region_code)
    return list((await s.scalars(q)).all())


async def municipality_regions(s: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    rows = await s.execute(
        select(Municipality.code, Municipality.region_code).where(Municipality.code.in_(codes))
    )
    return {code: region for code, region in rows.all()}


async def service_types(s: AsyncSession) -> list[ServiceType]:
    return list((await s.scalars(select(ServiceType).order_by(ServiceType.code))).all())


async def service_type(s: AsyncSession, code: str) -> ServiceType | None:
    return await s.get(ServiceType, code)


async def offering(s: AsyncSession, offering_id: str, *, for_update: bool = False
                   ) -> Offering | None:
    q = select(Offering).where(Offering.id == offering_id)
    if for_update:
        q = q.with_for_update()
    return await s.scalar(q)


async def offerings_of(s: AsyncSession, provider_id: str) -> list[Offering]:
    q = select(Offering).where(Offering.provider_id == provider_id).with_for_update()
    return list((await s.scalars(q)).all())


async def replace_offering_facets(s: AsyncSession, o: Offering) -> None:
    """Keep the search facet rows (municipalities, languages) equal to the offering's lists,
    and its row in the search table equal to the offering."""
    await s.execute(delete(OfferingMunicipality).where(OfferingMunicipality.offering_id == o.id))
    await s.execute(delete(OfferingLanguage).where(OfferingLanguage.offering_id == o.id))
    s.add_all(OfferingMunicipality(offering_id=o.id, municipality_code=m)
              for m in o.municipalities)
    s.add_all(OfferingLanguage(offering_id=o.id, language=lang) for lang in o.languages)
    await s.flush()
    await search_index.index(s, [o])


async def set_offerings_visibility(s: AsyncSession, provider_id: str, region: str, *,
                                   choosable: bool) -> None:
    """Keep ``offering.visible`` true exactly for published offerings of a provider choosable
    in the offering's region; called in the transaction that changes the accreditation."""
    await s.execute(
        update(Offering)
        .where(Offering.provider_id == provider_id, Offering.region_code == region)
        .values(visible=and_(Offering.status == "published", literal(choosable)))
        .execution_options(synchronize_session=False)
    )
    await search_index.follow_visibility(s, provider_id, region)


# The API's name of a column where it differs from the table's.
API_NAMES = {"region": "region_code"}


def offering_columns(fields: Sequence[str]) -> list[ColumnElement[Any]]:
    """The offering's columns named as the API names them."""
    table = Offering.__table__
    return [table.c[API_NAMES.get(name, name)].label(name) for name in fields]


async def offering_rows(s: AsyncSession, ids: Sequence[str], fields: Sequence[str]
                        ) -> list[RowMapping]:
    """The offerings ``ids`` (``fields`` of each), in the order of ``ids``."""
    if not ids:
        return []
    q = select(*offering_columns(fields), Offering.id.label("_id")).where(Offering.id.in_(ids))
    by_id = {row["_id"]: row for row in (await s.execute(q)).mappings().all()}
    return [by_id[i] for i in ids if i in by_id]


async def add_offerings(s: AsyncSession, offerings: Sequence[Offering]) -> None:
    """Insert new offerings (not added to the session) with their facet and search rows: a few
    statements for the lot."""
    columns = [c.key for c in Offering.__table__.columns]
    await s.execute(insert(Offering), [{c: getattr(o, c) for c in columns} for o in offerings])
    facets_m = [{"offering_id": o.id, "municipality_code": m}
                for o in offerings for m in o.municipalities]
    facets_l = [{"offering_id": o.id, "language": lang}
                for o in offerings for lang in o.languages]
    if facets_m:
        await s.execute(insert(OfferingMunicipality), facets_m)
    if facets_l:
        await s.execute(insert(OfferingLanguage), facets_l)
    await search_index.index(s, offerings, new=True)


async def api_keys(s: AsyncSession, provider_id: str, *,
                   after: tuple[datetime, str] | None, limit: int) -> list[ApiKey]:
    """``limit + 1`` of the provider's keys, oldest first, after the position ``after``."""
    q = select(ApiKey).where(ApiKey.provider_id == provider_id)
    if after is not None:
        created, key_id = after
        q = q.where(or_(ApiKey.created_at > created,
                        and_(ApiKey.created_at == created, ApiKey.id > key_id)))
    q = q.order_by(ApiKey.created_at, ApiKey.id).limit(limit + 1)
    return list((await s.scalars(q)).all())


async def api_key(s: AsyncSession, key_id: str, *, for_update: bool = False) -> ApiKey | None:
    q = select(ApiKey).where(ApiKey.id == key_id)
    if for_update:
        q = q.with_for_update()
    return await s.scalar(q)


async def api_key_by_prefix(s: AsyncSession, prefix: str) -> ApiKey | None:
    return await s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


async def audit_entries(
    s: AsyncSession, *, region: str | None, subject_id: str | None, before: int | None,
    limit: int,
) -> list[dict[str, object]]:
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit + 1)
    if region:
        q = q.where(audit_log.c.region == region)
    if subject_id:
        q = q.where(audit_log.c.subject_id == subject_id)
    if before is not None:
        q = q.where(audit_log.c.seq < before)
    return [dict(r) for r in (await s.execute(q)).mappings().all()]
