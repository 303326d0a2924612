"""Invariant 6 when a service dies: the registry is SIGKILLed between commit and publish (and,
in a second round, between publish and marking the row sent); after a restart every event is
on the stream exactly once and applied downstream once."""

from __future__ import annotations

from pathlib import Path

import httpx
import nats
import pytest
from sqlalchemy import func, select, update

from kit.db import Database
from kit.natsserver import NatsServer
from services.registry.models import plumbing as registry_tables
from tests import probe
from tests.processes import ServiceProcess
from tests.support import (
    CATALOGUE_EVENTS,
    DbFactory,
    application,
    eventually,
    running,
    service_settings,
)

pytestmark = pytest.mark.e2e


async def outbox_state(db: Database) -> tuple[int, int]:
    t = registry_tables.outbox
    async with db.reader() as s:
        total = await s.scalar(select(func.count()).select_from(t))
        unpublished = await s.scalar(
            select(func.count()).select_from(t).where(t.c.published_at.is_(None))
        )
    return int(total or 0), int(unpublished or 0)


async def stream_messages(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info("REGISTRY")).state.messages)
    finally:
        await nc.close()


async def test_killed_service_publishes_committed_events_once(
    db: DbFactory, stopped_broker: NatsServer, tmp_path: Path
) -> None:
    broker = stopped_broker
    target = db.new("registry")
    env = {**target.env("REGISTRY"), "NATS_URL": broker.url, "REGISTRY_LOG_LEVEL": "WARNING",
           "REGISTRY_OUTBOX_POLL_SECONDS": "0.1"}
    registry = ServiceProcess("services.registry.main:app", env, tmp_path / "registry.log")
    reg_db = Database(target.url, schema=target.schema)
    try:
        # Round 1: committed, never published — the broker is down, then the process dies.
        registry.start(wait_for="/healthz")  # not ready: the broker is down
        for i in range(5):
            r = httpx.post(registry.url + "/providers", json=application(500 + i), timeout=10)
            assert r.status_code == 201, r.text
        registry.sigkill()
        total = CATALOGUE_EVENTS + 5  # the catalogue announced at migration, then providers
        assert await outbox_state(reg_db) == (total, total)

        broker.start()
        vou = probe.create_app(service_settings(probe.Settings, db.new("probe"), broker.url))
        async with running(vou):
            registry.start(wait_for="/readyz")

            async def published() -> bool:
                return await outbox_state(reg_db) == (total, 0)

            await eventually(published, timeout=30, what="relay published after restart")
            assert await stream_messages(broker.url) == total

            async def applied() -> tuple[int, int]:
                rows = await probe.counts(vou.state.runtime.db)
                return rows["recorded"], rows["inbox"]

            async def applied_once() -> bool:
                return await applied() == (5, 5)

            await eventually(applied_once, what="applied once downstream")

            # Round 2: published but not marked — the process dies before marking the rows.
            registry.sigkill()
            async with reg_db.session() as s:
                await s.execute(update(registry_tables.outbox).values(published_at=None))
                await s.commit()
            registry.start(wait_for="/readyz")
            await eventually(published, timeout=30, what="relay re-published after restart")
            assert await stream_messages(broker.url) == total  # JetStream dropped the repeats
            assert await applied() == (5, 5)
    finally:
        registry.stop()
        await reg_db.dispose()

