"""Invariant 5: a retry with the same Idempotency-Key returns the first answer and creates
nothing new — also when the retries race. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, Integer, String, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import Database
from kit.errors import Conflict, Problem, Unprocessable
from kit.idempotency import purge, run_once
from kit.orm import new_metadata
from kit.tables import plumbing_tables
from tests.support import DbFactory, database_of

metadata = new_metadata()
tables = plumbing_tables(metadata)
thing = Table(
    "thing", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False),
)


@pytest.fixture
async def database(db: DbFactory) -> AsyncIterator[Database]:
    async with database_of(metadata, db.new("idem")) as database:
        yield database


class Thing(BaseModel):
    id: int
    name: str


def creator(name: str, delay: float = 0.0):  # type: ignore[no-untyped-def]
    async def work(s: AsyncSession) -> Thing:
        result = await s.execute(insert(thing).values(name=name).returning(thing.c.id))
        new_id = result.scalar_one()
        if delay:
            await asyncio.sleep(delay)
        return Thing(id=new_id, name=name)

    return work


async def count(database: Database) -> int:
    async with database.reader() as s:
        return int(await s.scalar(select(func.count()).select_from(thing)) or 0)


async def test_retry_returns_first_answer_and_creates_nothing(database: Database) -> None:
    first = await run_once(database, tables, scope="POST /things", key="k1",
                           payload={"name": "a"}, answer=Thing, change=creator("a"))
    again = await run_once(database, tables, scope="POST /things", key="k1",
                           payload={"name": "a"}, answer=Thing, change=creator("a"))
    assert first.value.name == "a" and not first.replayed
    assert again.replayed and again.value == first.value
    assert await count(database) == 1


async def test_same_key_other_request_is_refused(database: Database) -> None:
    await run_once(database, tables, scope="POST /things", key="k2",
                   payload={"name": "a"}, answer=Thing, change=creator("a"))
    with pytest.raises(Unprocessable) as err:
        await run_once(database, tables, scope="POST /things", key="k2",
                       payload={"name": "b"}, answer=Thing, change=creator("b"))
    assert err.value.errors and err.value.errors[0].field == "Idempotency-Key"
    assert await count(database) == 1


async def test_keys_are_scoped(database: Database) -> None:
    await run_once(database, tables, scope="provider-1", key="same",
                   payload={"name": "a"}, answer=Thing, change=creator("a"))
    await run_once(database, tables, scope="provider-2", key="same",
                   payload={"name": "a"}, answer=Thing, change=creator("a"))
    assert await count(database) == 2


async def test_racing_retries_create_once(database: Database) -> None:
    results = await asyncio.gather(
        *(
            run_once(database, tables, scope="POST /things", key="race",
                     payload={"name": "r"}, answer=Thing, change=creator("r", delay=0.05))
            for _ in range(8)
        )
    )
    assert await count(database) == 1
    assert len({r.value.model_dump_json() for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1


async def test_without_key_each_request_creates(database: Database) -> None:
    for _ in range(3):
        await run_once(database, tables, scope="POST /things", key=None,
                       payload={"name": "n"}, answer=Thing, change=creator("n"))
    assert await count(database) == 3


def refusing(name: str):  # type: ignore[no-untyped-def]
    async def work(s: AsyncSession) -> Thing:
        await s.execute(insert(thing).values(name=name))  # written, then rolled back
        raise Conflict(f"no room for {name}", type="/problems/full")

    return work


async def test_a_refusal_is_replayed_and_writes_nothing(database: Database) -> None:
    """replay_errors: the first answer is kept even when it was a refusal, and a retry gets it
    back although the change would now succeed."""
    for change in (refusing("x"), refusing("x"), creator("x")):
        with pytest.raises(Problem) as err:
            await run_once(database, tables, scope="POST /things", key="e1",
                           payload={"name": "x"}, answer=Thing, change=change,
                           replay_errors=True)
        assert err.value.status == 409 and err.value.detail == "no room for x"
        assert err.value.type == "/problems/full"
    assert await count(database) == 0
    ok = await run_once(database, tables, scope="POST /things", key="e2",
                        payload={"name": "x"}, answer=Thing, change=creator("x"),
                        replay_errors=True)
    assert ok.value.name == "x" and await count(database) == 1


async def test_reuse_with_another_request_can_be_a_conflict(database: Database) -> None:
    await run_once(database, tables, scope="POST /things", key="c1", payload={"name": "a"},
                   answer=Thing, change=creator("a"), conflict_on_reuse=True)
    with pytest.raises(Conflict) as err:
        await run_once(database, tables, scope="POST /things", key="c1",
                       payload={"name": "b"}, answer=Thing, change=creator("b"),
                       conflict_on_reuse=True)
    assert err.value.errors and err.value.errors[0].field == "Idempotency-Key"


async def test_purge_forgets_only_old_keys(database: Database) -> None:
    await run_once(database, tables, scope="POST /things", key="old", payload={"name": "a"},
                   answer=Thing, change=creator("a"))
    assert await purge(database, tables, older_than=timedelta(hours=24)) == 0
    async with database.session() as s:
        await s.execute(update(tables.idempotency).values(
            created_at=datetime.now(UTC) - timedelta(hours=25)))
        await s.commit()
    assert await purge(database, tables, older_than=timedelta(hours=24)) == 1
