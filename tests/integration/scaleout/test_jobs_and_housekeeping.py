"""The plumbing of several replicas, on real databases: a period claimed by an instance that
dies mid-run is run by another; housekeeping prunes exactly what has outlived its retention."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import orjson
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from kit import metrics
from kit.housekeeping import Retention, prune
from kit.jobs import Job, claim_scope, run_period
from kit.orm import new_metadata
from kit.runtime import Runtime
from kit.tables import plumbing_tables
from tests.support import DbFactory, database_of

metadata = new_metadata()
plumbing = plumbing_tables(metadata)


def runtime(db: Any) -> Runtime:
    return cast(Runtime, SimpleNamespace(db=db, plumbing=plumbing,
                                         settings=SimpleNamespace(service_name="plumbing")))


@pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"),
                    reason="TEST_POSTGRES_URL is not set: the claim is held on PostgreSQL")
async def test_a_period_claimed_by_a_dying_instance_is_run_by_another(tmp_path: Any) -> None:
    dbs = DbFactory("postgresql", tmp_path)
    target = dbs.new("jobs")
    release = asyncio.Event()
    ran: list[str] = []

    async def stuck(rt: Runtime) -> None:
        ran.append("a")
        await release.wait()

    async def quick(rt: Runtime) -> None:
        ran.append("b")

    try:
        async with database_of(metadata, target) as a, database_of(metadata, target) as b:
            first = asyncio.create_task(
                run_period(runtime(a), Job("sweep", 60, stuck), 7, instance="a"))
            while not ran:  # a holds the claim of period 7 and is running
                await asyncio.sleep(0.01)
            second = asyncio.create_task(
                run_period(runtime(b), Job("sweep", 60, quick), 7, instance="b"))
            await asyncio.sleep(0.3)
            assert not second.done()  # b waits on a's claim
            async with b.session() as s:  # a dies: its connection goes, its claim with it
                await s.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "state = 'idle in transaction' AND datname = current_database() AND "
                    "query LIKE 'INSERT INTO idempotency_key%'"))
                await s.commit()
            assert await asyncio.wait_for(second, 10) is True
            release.set()
            with pytest.raises(DBAPIError):  # its commit finds the connection gone
                await asyncio.wait_for(first, 10)
            assert ran == ["a", "b"]
            async with b.reader() as s:
                bodies = (await s.execute(select(plumbing.idempotency.c.body).where(
                    plumbing.idempotency.c.scope == claim_scope("sweep")))).scalars().all()
            assert [orjson.loads(x)["instance"] for x in bodies] == ["b"]
    finally:
        await dbs.cleanup()


async def test_housekeeping_prunes_what_outlived_its_retention(db: DbFactory) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(hours=200), now - timedelta(hours=1)
    retention = Retention(events=timedelta(hours=168), idempotency=timedelta(hours=48),
                          dead_letters=timedelta(hours=720))
    p = plumbing
    async with database_of(metadata, db.new("housekeeping")) as database:
        async with database.session() as s:
            await s.execute(insert(p.outbox), [
                dict(event_id=f"o{i}", subject="s", payload="{}", created_at=old,
                     published_at=at) for i, at in enumerate([old, recent, None])])
            await s.execute(insert(p.inbox), [
                dict(consumer="c", event_id=f"i{i}", event_type="t", processed_at=at)
                for i, at in enumerate([old, recent])])
            await s.execute(insert(p.idempotency), [
                dict(scope="x", key=f"k{i}", request_hash="h", status_code=201, body="{}",
                     created_at=at) for i, at in enumerate([old, recent])])
            await s.execute(insert(p.dead_letter), [
                dict(consumer="c", event_id=f"d{i}", subject="s", deliveries=5, error="e",
                     payload="{}", created_at=at)
                for i, at in enumerate([now - timedelta(hours=800), old])])
            await s.commit()
        counter = metrics.HOUSEKEEPING_PRUNED.labels("plumbing", "outbox")
        before = counter._value.get()
        pruned = await prune(database, p, retention, service="plumbing")
        assert pruned == {"outbox": 1, "inbox": 1, "idempotency_key": 1, "dead_letter": 1}
        assert counter._value.get() - before == 1
        async with database.reader() as s:
            outbox = (await s.execute(select(p.outbox.c.event_id))).scalars().all()
            left = [await s.scalar(select(func.count()).select_from(t))
                    for t in (p.inbox, p.idempotency, p.dead_letter)]
        assert sorted(outbox) == ["o1", "o2"]  # the unpublished one stays, however old
        assert left == [1, 1, 1]
        assert await prune(database, p, retention, service="plumbing") == dict.fromkeys(
            pruned, 0)
