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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kit.db import normalise_url

T = TypeVar("T")


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


class DbFactory:
    """Hands out fresh databases: SQLite files under ``tmp``, or fresh PostgreSQL schemas."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.schemas: list[str] = []

    def new(self, service: str) -> DbTarget:
        if self.backend == "sqlite":
            return DbTarget(f"sqlite+aiosqlite:///{self.tmp / (service + '.db')}", None)
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
    """A valid Y-tunnus built from a seven-digit number (check digit computed)."""
    for n in range(seed, seed + 50):
        digits = f"{n % 10_000_000:07d}"
        total = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True))
        rem = total % 11
        if rem == 1:
            continue
        return f"{digits}-{0 if rem == 0 else 11 - rem}"
    raise AssertionError("unreachable")


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
