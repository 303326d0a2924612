"""Queries of the registry. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Provider


async def provider_by_business_id(s: AsyncSession, business_id: str) -> Provider | None:
    return await s.scalar(select(Provider).where(Provider.business_id == business_id))


async def provider(s: AsyncSession, provider_id: str) -> Provider | None:
    return await s.get(Provider, provider_id)


async def providers_page(s: AsyncSession, *, after: str | None, limit: int) -> list[Provider]:
    q = select(Provider).order_by(Provider.id).limit(limit + 1)
    if after:
        q = q.where(Provider.id > after)
    return list((await s.scalars(q)).all())
