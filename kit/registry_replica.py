"""A replica of the registry's providers and their accreditations, kept from its events by
every service that needs to know who a provider is and where it may be chosen.

A service declares its two tables with the mixins and builds its handlers and its internal
read endpoint from them::

    class ProviderView(ProviderColumns, Base):
        __tablename__ = "provider_view"

    class AccreditationView(AccreditationColumns, Base):
        __tablename__ = "accreditation_view"

    replica = RegistryReplica(ProviderView, AccreditationView)
    rt.consumer("voucher-from-registry", stream="REGISTRY", handlers=replica.handlers())

Each accreditation (provider, region) follows its events by version: an older event arriving
late changes nothing. ``provider.applied`` adds the regions it names (it never replaces the
set); the provider's name follows ``provider.updated`` by the provider's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Date, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from contracts.events import Envelope
from contracts.registry import (
    ACCREDITATION_EVENTS,
    AccreditationEvent,
    ProviderApplied,
    ProviderUpdated,
)
from kit.consumer import Handler
from kit.errors import NotFound, problems
from kit.orm import UTCDateTime
from kit.runtime import RuntimeDep


async def apply_newer(s: AsyncSession, model: type[Any], key: Mapping[str, Any],
                      version: int, values: Mapping[str, Any]) -> bool:
    """Create or update the row ``key`` of ``model`` with ``values``, unless it holds
    ``version`` or a newer one already (an event delivered late, or twice). True: applied."""
    row = await s.get(model, tuple(key.values()) if len(key) > 1 else next(iter(key.values())))
    if row is not None and row.version >= version:
        return False
    if row is None:
        row = model(**key)
        s.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.version = version
    return True


class ProviderColumns:
    """A provider as the registry last described it."""

    provider_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    business_id: Mapped[str] = mapped_column(String(9))
    legal_name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccreditationColumns:
    """A provider's accreditation in one region, as its newest event left it."""

    provider_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)


# A provider's standing across its regions: the first of these states it holds anywhere.
STANDING = ("approved", "suspended", "applied", "expired", "rejected", "revoked")


def standing(states: list[str]) -> str:
    return next((s for s in STANDING if s in states), states[0] if states else "unknown")


class AccreditationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    region: str
    state: str
    valid_until: date | None
    version: int


class ProviderReplicaOut(BaseModel):
    provider_id: str
    business_id: str
    legal_name: str
    regions: list[str]
    status: str
    accreditations: list[AccreditationOut]
    version: int
    updated_at: datetime


class RegistryReplica:
    def __init__(self, provider: type[Any], accreditation: type[Any]) -> None:
        self.provider = provider
        self.accreditation = accreditation

    async def _provider_seen(self, s: AsyncSession, event: AccreditationEvent,
                             at: datetime) -> None:
        """The first event of a provider creates its row; its name then follows
        ``provider.updated`` only. ``updated_at`` is the event's time (a replay of the stream
        rebuilds the same rows)."""
        if await s.get(self.provider, event.provider_id) is None and event.business_id:
            s.add(self.provider(provider_id=event.provider_id, business_id=event.business_id,
                                legal_name=event.legal_name, version=1, updated_at=at))

    async def on_accreditation(self, s: AsyncSession, envelope: Envelope) -> None:
        event: AccreditationEvent
        if envelope.type == ProviderApplied.event_type():
            applied = ProviderApplied.model_validate(envelope.data)
            regions, event = applied.regions, applied
        else:
            event = AccreditationEvent.model_validate(envelope.data)
            regions = [event.region]
        await self._provider_seen(s, event, envelope.time)
        for region in regions:
            await apply_newer(s, self.accreditation,
                              {"provider_id": event.provider_id, "region": region},
                              event.version,
                              {"state": event.state, "valid_until": event.valid_until})

    async def on_provider_updated(self, s: AsyncSession, envelope: Envelope) -> None:
        event = ProviderUpdated.model_validate(envelope.data)
        await apply_newer(s, self.provider, {"provider_id": event.provider_id}, event.version,
                          {"business_id": event.business_id, "legal_name": event.legal_name,
                           "updated_at": envelope.time})

    def handlers(self) -> dict[str, Handler]:
        return {
            **{cls.event_type(): self.on_accreditation for cls in ACCREDITATION_EVENTS.values()},
            ProviderUpdated.event_type(): self.on_provider_updated,
        }

    async def read(self, s: AsyncSession, provider_id: str) -> ProviderReplicaOut | None:
        p = await s.get(self.provider, provider_id)
        if p is None:
            return None
        accs = list((await s.scalars(
            select(self.accreditation).where(self.accreditation.provider_id == provider_id)
            .order_by(self.accreditation.region))).all())
        return ProviderReplicaOut(
            provider_id=p.provider_id, business_id=p.business_id, legal_name=p.legal_name,
            regions=[a.region for a in accs], status=standing([a.state for a in accs]),
            accreditations=[AccreditationOut.model_validate(a) for a in accs],
            version=p.version, updated_at=p.updated_at)

    def router(self) -> APIRouter:
        """``GET /internal/read-models/providers/{provider_id}`` (not routed by the gateway)."""
        router = APIRouter(prefix="/internal/read-models", tags=["internal"])

        @router.get("/providers/{provider_id}", response_model=ProviderReplicaOut,
                    summary="A provider in this service's replica of the registry",
                    responses=problems(404))
        async def provider_view(provider_id: str, rt: RuntimeDep) -> ProviderReplicaOut:
            async with rt.db.reader() as s:
                out = await self.read(s, provider_id)
            if out is None:
                raise NotFound("provider not in this service's read model (yet)")
            return out

        return router
