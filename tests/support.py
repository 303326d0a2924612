"""Test helpers: services started in-process on real databases and a real NATS server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from kit.db import Database, normalise_url
from kit.settings import ServiceSettings
from services.registry.domain.business_id import business_id_of

T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)


def catalogue_events() -> int:
    """Events the registry writes to its outbox when it is first migrated: one
    ``service_type.added`` per type of the seeded catalogue."""
    from services.registry.domain.places import SERVICE_TYPES

    return len(SERVICE_TYPES)


CATALOGUE_EVENTS = catalogue_events()


async def empty_broker(nats_url: str) -> None:
    """No streams and no durable consumers left by earlier tests: services started now see the
    whole event history from its start, as a new deployment does."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for name in ("REGISTRY", "VOUCHER", "MATCHING", "DEADLETTER"):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
    await nc.close()


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 15.0, interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns a truthy value; bounded in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        try:
            last = await probe()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


@dataclass
class DbTarget:
    """Where one service's database lives in a test."""

    url: str
    schema: str | None

    def env(self, prefix: str) -> dict[str, str]:
        env = {f"{prefix}_DATABASE_URL": self.url}
        if self.schema:
            env[f"{prefix}_DATABASE_SCHEMA"] = self.schema
        return env


def service_settings(cls: type[S], target: DbTarget, nats_url: str, **over: Any) -> S:
    """A service's settings under test: its database, the test broker, a quick outbox poll and
    quiet logs; ``over`` changes or adds any setting."""
    base: dict[str, Any] = {
        "database_url": target.url, "database_schema": target.schema, "nats_url": nats_url,
        "outbox_poll_seconds": 0.1, "log_level": "WARNING",
    }
    return cls(**(base | over))


class DbFactory:
    """Hands out fresh databases: SQLite files under ``tmp``, or fresh PostgreSQL schemas."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.schemas: list[str] = []

    def new(self, service: str) -> DbTarget:
        if self.backend == "sqlite":
            return sqlite_target(self.tmp, service)
        schema = f"t_{uuid.uuid4().hex[:10]}_{service}"
        self.schemas.append(schema)
        return DbTarget(normalise_url(os.environ["TEST_POSTGRES_URL"]), schema)

    async def cleanup(self) -> None:
        if not self.schemas:
            return
        engine = create_async_engine(normalise_url(os.environ["TEST_POSTGRES_URL"]))
        async with engine.begin() as conn:
            for schema in self.schemas:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


@contextlib.asynccontextmanager
async def database_of(metadata: MetaData, target: DbTarget) -> AsyncIterator[Database]:
    """A database at ``target`` holding ``metadata``'s tables (made directly, without
    migrations: for tests of the plumbing on tables of their own); disposed afterwards."""
    database = Database(target.url, schema=target.schema)
    async with database.write_engine.begin() as conn:
        if target.schema:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{target.schema}"'))
        await conn.run_sync(metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()


def sqlite_target(tmp: Path, name: str) -> DbTarget:
    return DbTarget(f"sqlite+aiosqlite:///{tmp / (name + '.db')}", None)


@contextlib.asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan in this event loop and give an httpx client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            await eventually(
                lambda: _ready(client), timeout=20, what=f"{app.title} ready"
            )
            yield client


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


def valid_business_id(seed: int) -> str:
    """A valid Y-tunnus: the first number from ``seed`` on that is ever issued."""
    return next(b for n in range(seed, seed + 50) if (b := business_id_of(n)))


def application(i: int, regions: tuple[str, ...] = ("pirkanmaa",)) -> dict[str, Any]:
    """A valid provider application body, distinct for each ``i``."""
    return {
        "business_id": valid_business_id(1_000_000 + i * 37),
        "legal_name": f"Palvelu {i} Oy",
        "contact_name": "Maija Meikäläinen",
        "contact_email": f"info{i}@palvelu.example",
        "description": {"fi": "Työnhakuvalmennusta Pirkanmaalla.", "en": "Job-search coaching."},
        "regions": list(regions),
    }
