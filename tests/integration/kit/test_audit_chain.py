"""The opt-in hash chain of kit/audit.py: concurrent writers to one chain never collide, and
verification finds an entry changed, removed or inserted. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text, update

from contracts.principal import Principal, Role
from kit import audit
from kit.db import Database
from kit.orm import new_metadata
from tests.support import DbFactory

metadata = new_metadata()
log = audit.audit_table(metadata, chained=True)
ADMIN = Principal(sub="admin-1", role=Role.region_admin, region="pirkanmaa")


@pytest.fixture
async def database(db: DbFactory) -> AsyncIterator[Database]:
    target = db.new("audit")
    database = Database(target.url, schema=target.schema, pool_size=10)
    async with database.write_engine.begin() as conn:
        if target.schema:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{target.schema}"'))
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def write(database: Database, n: int, chain: str = "pirkanmaa") -> None:
    async with database.session() as s:
        await audit.record(s, log, actor=ADMIN, action="claim.approved", subject_type="claim",
                           subject_id=f"c{n}", reason="ok", region=chain, details={"n": n},
                           chain=chain)
        await asyncio.sleep(0.01)  # hold the head a little: the others queue behind it
        await s.commit()


async def verify(database: Database, chain: str = "pirkanmaa") -> audit.ChainReport:
    async with database.reader() as s:
        return await audit.verify_chain(s, log, chain)


async def test_concurrent_writers_make_one_valid_chain(database: Database) -> None:
    await asyncio.gather(*(write(database, n, "pirkanmaa" if n % 3 else "kainuu")
                           for n in range(24)))
    a, b = await verify(database), await verify(database, "kainuu")
    assert a.valid and b.valid and (a.entries, b.entries) == (16, 8)
    empty = await verify(database, "nowhere")
    assert empty.valid and empty.entries == 0


async def test_tampering_is_found(database: Database) -> None:
    for n in range(5):
        await write(database, n)
    assert (await verify(database)).valid
    async with database.session() as s:  # the table has no triggers here: a forger's edit
        await s.execute(update(log).where(log.c.chain_seq == 3).values(reason="changed"))
        await s.commit()
    report = await verify(database)
    assert not report.valid and report.first_bad_seq == 3 and report.problem == "entry was altered"
    async with database.session() as s:
        await s.execute(update(log).where(log.c.chain_seq == 3).values(reason="ok"))
        await s.execute(log.delete().where(log.c.chain_seq == 5))
        await s.commit()
    report = await verify(database)
    assert not report.valid and report.problem == "entries after the last one found are missing"
