"""The probe: a minimal service built with kit's app factory that consumes the registry's
stream and records each ``provider.applied`` it applies as one row of ``probe_event``. The
tests of the plumbing (outbox, consumer, dead letters, faults) and the foundation benchmark
count these rows, so that no service's read model is tied to them.

    uvicorn tests.probe:app   (from the repository root, with PROBE_DATABASE_URL, NATS_URL)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Column, DateTime, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import ProviderApplied
from kit.app import create_service_app
from kit.consumer import Consumer
from kit.db import Database
from kit.orm import new_metadata
from kit.runtime import Runtime
from kit.settings import ServiceSettings
from kit.tables import plumbing_tables

CONSUMER = "probe-from-registry"
MIGRATIONS = str(Path(__file__).parent / "migrations")

metadata = new_metadata()
plumbing = plumbing_tables(metadata)
probe_event = Table(
    "probe_event", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("provider_id", String(36), nullable=False),
    Column("business_id", String(9), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROBE_", extra="ignore")

    service_name: str = "probe"
    database_url: str = "sqlite+aiosqlite:///var/probe.db"


async def record(s: AsyncSession, envelope: Envelope) -> None:
    event = ProviderApplied.model_validate(envelope.data)
    await s.execute(insert(probe_event).values(
        event_id=envelope.id, provider_id=event.provider_id, business_id=event.business_id,
        recorded_at=datetime.now(UTC)))


HANDLERS = {ProviderApplied.event_type(): record}


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return [rt.consumer(CONSUMER, stream="REGISTRY", handlers=HANDLERS)]


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(), metadata=metadata, plumbing=plumbing,
        migrations=MIGRATIONS, routers=[], consumers=consumers, title="probe",
        description="test and benchmark probe: records the events it consumes")


async def counts(db: Database) -> dict[str, int]:
    """Rows of the probe: events recorded, distinct providers, inbox and dead letters."""
    async with db.reader() as s:
        return {
            "recorded": int(await s.scalar(select(func.count()).select_from(probe_event)) or 0),
            "providers": int(await s.scalar(
                select(func.count(func.distinct(probe_event.c.provider_id)))) or 0),
            "inbox": int(await s.scalar(select(func.count()).select_from(plumbing.inbox)) or 0),
            "dead": int(await s.scalar(
                select(func.count()).select_from(plumbing.dead_letter)) or 0),
        }


def __getattr__(name: str) -> FastAPI:
    """``tests.probe:app`` for uvicorn, made only when asked for (importing the module for its
    tables configures nothing)."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
