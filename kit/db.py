"""Async SQLAlchemy engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite: WAL, ``busy_timeout``, foreign keys, write transactions opened with ``BEGIN IMMEDIATE``
on a single writer connection (so writers queue in-process instead of failing with "database is
locked"), and a small pool of reader connections (WAL lets readers run beside the writer).
PostgreSQL: one asyncpg pool serves both; ``database_schema`` sets the ``search_path``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``sqlite://`` URLs and pick the async drivers."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "postgresql" and u.get_driver_name() != "asyncpg":
        u = u.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and u.get_driver_name() != "aiosqlite":
        u = u.set(drivername="sqlite+aiosqlite")
    return u.render_as_string(hide_password=False)


def _json_dumps(value: Any) -> str:
    """JSON columns are written and read with orjson (several times faster than json)."""
    return orjson.dumps(value).decode()


def _sqlite_engine(url: str, *, writer: bool, pool_size: int) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"timeout": 30},
        # Sessions end their own transactions (commit, or rollback on close); skipping the
        # pool's extra rollback saves a round trip to the driver's thread per checkout.
        pool_reset_on_return=None,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that BEGIN is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def _postgres_engine(url: str, *, schema: str | None, pool_size: int) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
        connect_args=connect_args, json_serializer=_json_dumps, json_deserializer=orjson.loads,
    )


class Database:
    """A service's database: ``session()`` for writes, ``reader()`` for read-only work."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 5) -> None:
        self.url = normalise_url(url)
        self.sqlite = is_sqlite(self.url)
        self.schema = None if self.sqlite else schema
        if self.sqlite:
            self.write_engine = _sqlite_engine(self.url, writer=True, pool_size=1)
            self.read_engine = _sqlite_engine(self.url, writer=False, pool_size=pool_size)
        else:
            self.write_engine = _postgres_engine(self.url, schema=self.schema, pool_size=pool_size)
            self.read_engine = self.write_engine
        self._info: dict[str, Any] = {}
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    def set_session_info(self, key: str, value: Any) -> None:
        """Put ``value`` into the ``info`` of every write session made from now on."""
        self._info[key] = value

    def session(self) -> AsyncSession:
        """A session for a write transaction. The caller commits (in the service layer)."""
        return self._writer(info=dict(self._info))

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def dialect_insert(session: AsyncSession | Session, table: Any) -> Any:
    """``INSERT`` in the session's dialect (PostgreSQL or SQLite), which has ``on_conflict_…``
    and ``excluded``: for upserts and inserts of rows that may already exist."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def insert_ignoring_conflicts(session: AsyncSession, table: Any, rows: Any) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect (PostgreSQL or SQLite): for
    rows that may already exist, or that a concurrent transaction may be inserting."""
    return dialect_insert(session, table).values(rows).on_conflict_do_nothing()
