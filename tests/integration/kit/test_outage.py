"""Invariant 6 under a broker outage: the broker is SIGKILLed while provider applications are
being written and restarted later; every committed event arrives downstream exactly once."""

from __future__ import annotations

import asyncio

import httpx
import nats
from sqlalchemy import func, select

from kit.natsserver import NatsServer
from services.registry.main import create_app as registry_app
from services.registry.models import plumbing as registry_tables
from services.registry.settings import Settings as RegistrySettings
from tests import probe
from tests.support import (
    CATALOGUE_EVENTS,
    DbFactory,
    application,
    eventually,
    running,
    service_settings,
)


async def readyz(client: httpx.AsyncClient) -> int:
    return (await client.get("/readyz")).status_code


async def test_broker_killed_mid_stream_loses_and_duplicates_nothing(
    db: DbFactory, broker: NatsServer
) -> None:
    reg = registry_app(service_settings(RegistrySettings, db.new("registry"), broker.url))
    vou = probe.create_app(service_settings(probe.Settings, db.new("probe"), broker.url))
    async with running(reg) as r, running(vou) as v:
        statuses: list[int] = []

        async def write(start: int, count: int) -> None:
            for i in range(start, start + count):
                resp = await r.post("/providers", json=application(i))
                statuses.append(resp.status_code)
                await asyncio.sleep(0.01)

        await write(0, 15)
        writer = asyncio.create_task(write(15, 25))
        await asyncio.sleep(0.05)
        broker.kill()  # mid-stream, while the writer and the relay are busy
        await writer

        async def not_ready() -> bool:
            return await readyz(r) == 503

        await eventually(not_ready, what="registry reports NATS down")
        await write(40, 10)  # writes go on without the broker: they only need the database
        assert await reg.state.runtime.relay.backlog() >= 10  # committed, not yet published
        scrape = (await r.get("/metrics")).text
        backlog = [ln for ln in scrape.splitlines()
                   if ln.startswith('seteli_outbox_backlog{service="registry"}')]
        assert backlog and float(backlog[0].rsplit(" ", 1)[1]) >= 10
        assert "seteli_consumer_lag" in (await v.get("/metrics")).text
        await asyncio.to_thread(broker.start)
        await write(50, 10)
        assert statuses == [201] * 60

        rt_reg, rt_vou = reg.state.runtime, vou.state.runtime

        async def converged() -> bool:
            async with rt_reg.db.reader() as s:
                outbox = await s.scalar(select(func.count()).select_from(registry_tables.outbox))
                unpublished = await s.scalar(
                    select(func.count()).select_from(registry_tables.outbox).where(
                        registry_tables.outbox.c.published_at.is_(None)
                    )
                )
            applied = await probe.counts(rt_vou.db)
            return (outbox, unpublished, applied["recorded"], applied["inbox"]) == (
                CATALOGUE_EVENTS + 60, 0, 60, 60)

        await eventually(converged, timeout=45, what="all 60 events published and applied once")

        nc = await nats.connect(broker.url)
        try:
            info = await nc.jetstream().stream_info("REGISTRY")
            # one message per outbox row (the catalogue's too), no duplicates
            assert info.state.messages == CATALOGUE_EVENTS + 60
        finally:
            await nc.close()
        assert await readyz(r) == 200 and await readyz(v) == 200

