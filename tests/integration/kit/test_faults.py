"""Invariant 6 under faults not covered elsewhere (test_outage.py: broker killed mid-stream;
e2e/test_crash.py: producer killed between commit and publish): the broker coming back without
its store, the consuming service SIGKILLed mid-stream, and readiness and metrics following the
broker. Every test has its own nats-server so that it can kill it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import nats
from sqlalchemy import func, select

from kit.db import Database
from kit.natsserver import NatsServer
from services.registry.main import create_app as registry_app
from services.registry.models import plumbing as registry_tables
from services.registry.settings import Settings as RegistrySettings
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


async def outbox_counts(db: Database) -> tuple[int, int]:
    """(outbox rows, rows not yet published) of the registry."""
    t = registry_tables.outbox
    async with db.reader() as s:
        total = await s.scalar(select(func.count()).select_from(t))
        pending = await s.scalar(
            select(func.count()).select_from(t).where(t.c.published_at.is_(None))
        )
    return int(total or 0), int(pending or 0)


async def downstream_counts(db: Database) -> tuple[int, int, int]:
    """(events recorded, distinct providers, inbox rows) of the consuming probe service."""
    rows = await probe.counts(db)
    return rows["recorded"], rows["providers"], rows["inbox"]


async def stream_messages(url: str, stream: str = "REGISTRY") -> int:
    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def write(client: httpx.AsyncClient, numbers: range) -> None:
    for i in numbers:
        r = await client.post("/providers", json=application(i))
        assert r.status_code == 201, r.text
        await asyncio.sleep(0.01)


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample of a Prometheus text exposition, or None when it is not there."""
    want = {f'{k}="{v}"' for k, v in labels.items()}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            got = set(line[len(name) + 1 : line.index("}")].split(","))
            if got == want:
                return float(line.rsplit(" ", 1)[1])
    return None


async def test_broker_back_without_its_store_gets_streams_and_pending_events(
    db: DbFactory, broker: NatsServer
) -> None:
    """The broker's disk is lost (single node, R1): the streams are gone when it returns.
    The producer alone must provision them again and publish what it committed meanwhile."""
    target = db.new("registry")
    reg = registry_app(service_settings(RegistrySettings, target, broker.url))
    async with running(reg) as r:
        rt = reg.state.runtime
        await write(r, range(3))

        async def all_published(total: int) -> bool:
            return await outbox_counts(rt.db) == (total, 0)

        await eventually(lambda: all_published(CATALOGUE_EVENTS + 3),
                         what="first events published")
        broker.kill()
        shutil.rmtree(broker.store_dir / "jetstream")
        await write(r, range(3, 6))  # committed while the broker is away
        await asyncio.to_thread(broker.start)
        await write(r, range(6, 9))
        await eventually(lambda: all_published(CATALOGUE_EVENTS + 9), timeout=30,
                         what="events committed during and after the loss published")
        assert await stream_messages(broker.url) == 6  # the three before the loss are gone

        vou = probe.create_app(service_settings(probe.Settings, db.new("probe"), broker.url))
        async with running(vou):
            async def caught_up() -> bool:
                return await downstream_counts(vou.state.runtime.db) == (6, 6, 6)

            await eventually(caught_up, what="new consumer applies what the stream holds")


async def test_running_consumer_follows_a_broker_that_lost_its_store(
    db: DbFactory, broker: NatsServer
) -> None:
    """The consuming service was consuming when the store was lost: its durable consumer is
    gone with the streams; it must subscribe again and apply what is published from then on."""
    reg = registry_app(service_settings(RegistrySettings, db.new("registry"), broker.url))
    vou = probe.create_app(service_settings(probe.Settings, db.new("probe"), broker.url))
    async with running(reg) as r, running(vou):
        vou_db = vou.state.runtime.db
        await write(r, range(3))

        async def applied(n: int) -> bool:
            return await downstream_counts(vou_db) == (n, n, n)

        await eventually(lambda: applied(3), what="first events applied")
        broker.kill()
        shutil.rmtree(broker.store_dir / "jetstream")
        await asyncio.to_thread(broker.start)
        await write(r, range(3, 8))
        await eventually(lambda: applied(8), timeout=30, what="consumer back on the new stream")
        assert await outbox_counts(reg.state.runtime.db) == (CATALOGUE_EVENTS + 8, 0)


async def test_consumer_service_killed_mid_stream_converges_exactly_once(
    db: DbFactory, broker: NatsServer, tmp_path: Path
) -> None:
    """The consuming service, a real process, is SIGKILLed while events stream in (some
    applied and committed but not acked, some fetched and not applied); after a restart it has
    applied every event once."""
    vou_target = db.new("probe")
    env = {**vou_target.env("PROBE"), "NATS_URL": broker.url, "PROBE_LOG_LEVEL": "WARNING",
           "PROBE_CONSUMER_ACK_WAIT_SECONDS": "2"}
    consumer = ServiceProcess("tests.probe:app", env, tmp_path / "probe.log")
    vou_db = Database(vou_target.url, schema=vou_target.schema)
    reg = registry_app(service_settings(RegistrySettings, db.new("registry"), broker.url))
    try:
        await asyncio.to_thread(consumer.start)
        async with running(reg) as r:
            writer = asyncio.create_task(write(r, range(60)))

            async def some_applied() -> bool:
                return (await downstream_counts(vou_db))[2] >= 10

            await eventually(some_applied, timeout=30, what="consumer busy")
            await asyncio.to_thread(consumer.sigkill)
            assert not writer.done(), "the stream ended before the kill: make it longer"
            await asyncio.wait_for(writer, 60)
            await asyncio.to_thread(consumer.start)

            async def converged() -> bool:
                outbox, pending = await outbox_counts(reg.state.runtime.db)
                providers = outbox - CATALOGUE_EVENTS  # the probe applies provider events
                return pending == 0 and await downstream_counts(vou_db) == (providers,) * 3

            await eventually(converged, timeout=40, what="read model converged after restart")
            assert await downstream_counts(vou_db) == (60, 60, 60)
            assert await stream_messages(broker.url) == CATALOGUE_EVENTS + 60
    finally:
        await asyncio.to_thread(consumer.stop)
        await vou_db.dispose()


async def test_readiness_and_metrics_follow_the_broker(db: DbFactory, broker: NatsServer) -> None:
    """/readyz answers 503 on both services while NATS is down and 200 once it is back;
    /metrics carries the outbox backlog, the consumer lag and the dead-letter count, and the
    backlog and lag drain to zero after the outage."""
    reg = registry_app(service_settings(RegistrySettings, db.new("registry"), broker.url))
    # An ack in flight when the broker dies is lost: that message stays "ack pending" (lag 1)
    # until ack_wait expires and the redelivery is skipped by the inbox. Keep that short.
    vou = probe.create_app(service_settings(probe.Settings, db.new("probe"), broker.url,
                                            consumer_ack_wait_seconds=3.0))
    clients: list[httpx.AsyncClient] = []

    async def statuses() -> list[int]:
        return [(await c.get("/readyz")).status_code for c in clients]

    async with running(reg) as r, running(vou) as v:
        clients += [r, v]
        for text in ((await r.get("/metrics")).text, (await v.get("/metrics")).text):
            for name in ("seteli_outbox_backlog", "seteli_consumer_lag",
                         "seteli_dead_letters_total"):
                assert f"# HELP {name} " in text
        await write(r, range(2))

        broker.kill()

        async def both_down() -> bool:
            return await statuses() == [503, 503]

        await eventually(both_down, timeout=20, what="both services report NATS down")
        body = (await r.get("/readyz")).json()
        assert body["status"] == 503 and "nats" in body["detail"]
        await write(r, range(2, 7))  # the database still takes writes
        backlog = sample((await r.get("/metrics")).text, "seteli_outbox_backlog",
                         service="registry")
        assert backlog is not None and backlog >= 5

        await asyncio.to_thread(broker.start)

        async def both_up() -> bool:
            return await statuses() == [200, 200]

        await eventually(both_up, timeout=30, what="both services ready again")

        async def drained() -> tuple[float | None, float | None, int]:
            reg_text, vou_text = (await r.get("/metrics")).text, (await v.get("/metrics")).text
            backlog = sample(reg_text, "seteli_outbox_backlog", service="registry")
            lag = sample(vou_text, "seteli_consumer_lag", service="probe",
                         consumer=probe.CONSUMER)
            views = (await downstream_counts(vou.state.runtime.db))[0]
            return backlog, lag, views

        async def is_drained() -> bool:
            got = await drained()
            assert got == (0, 0, 7), f"(backlog, lag, views) = {got}"
            return True

        await eventually(is_drained, timeout=30, what="backlog and lag back to zero")
