"""The inbox-guarded durable consumer against a real nats-server and real databases: lost acks,
a database outage longer than ``max_deliver``, replicas racing on one event, and a durable that
follows the configured settings. Loops are bounded by :func:`tests.support.eventually`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import nats
import pytest
from fastapi import FastAPI
from nats.aio.msg import Msg
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import ProviderApplied
from kit.broker import NatsLink
from kit.consumer import Consumer
from kit.db import Database
from kit.migrate import upgrade
from tests.integration.kit.test_delivery import counters, publish
from tests.probe import CONSUMER, MIGRATIONS, Settings, counts, create_app, plumbing, record
from tests.support import DbFactory, DbTarget, eventually, running, service_settings


def settings(target: DbTarget, nats_url: str, **over: Any) -> Settings:
    return service_settings(Settings, target, nats_url, **over)


def applied_event(name: str = "Kasvu Oy") -> Envelope:
    return ProviderApplied(
        provider_id=str(uuid.uuid4()), business_id="1234567-1", legal_name=name,
        regions=["pirkanmaa"],
    ).envelope()


async def read_model(app: FastAPI) -> tuple[int, int, int]:
    """(events recorded, inbox rows, dead_letter rows) of a probe app."""
    rows = await counts(app.state.runtime.db)
    return rows["recorded"], rows["inbox"], rows["dead"]


def the_consumer(app: FastAPI) -> Consumer:
    consumers: list[Consumer] = app.state.runtime.consumers
    assert len(consumers) == 1
    return consumers[0]


class SwitchableDatabase:
    """Wraps a service's database; while ``down`` every write session fails to connect."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.down = False
        self.refused = 0

    def session(self) -> AsyncSession:
        if self.down:
            self.refused += 1
            raise OperationalError("connect", {}, ConnectionRefusedError("database is down"))
        return self.db.session()

    def reader(self) -> Any:
        return self.db.reader()


@pytest.fixture
def flaky_acks(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """The first ``fail`` acks of provider.applied messages are lost (the connection drops
    between commit and ack)."""
    state = {"fail": 0, "lost": 0}
    real_ack = Msg.ack

    async def ack(self: Msg) -> None:
        if self.subject == ProviderApplied.subject() and state["lost"] < state["fail"]:
            state["lost"] += 1
            raise nats.errors.ConnectionClosedError
        await real_ack(self)

    monkeypatch.setattr(Msg, "ack", ack)
    yield state


async def test_lost_acks_are_redelivered_and_never_dead_lettered(
    db: DbFactory, clean_nats: str, flaky_acks: dict[str, int]
) -> None:
    """The ack of a committed event is lost twice in a row, more often than max_deliver
    allows failures: JetStream redelivers after ack_wait, the inbox skips both repeats, and
    nothing lands in the dead letters."""
    flaky_acks["fail"] = 2
    app = create_app(settings(db.new("probe"), clean_nats, consumer_max_deliver=2,
                               consumer_ack_wait_seconds=1.0))
    async with running(app) as client:
        before = await counters(client)
        await publish(clean_nats, applied_event(), ProviderApplied.subject())

        async def settled() -> bool:
            c = await counters(client)
            return flaky_acks["lost"] == 2 and c["duplicate"] - before["duplicate"] == 2

        await eventually(settled, timeout=20, what="two redeliveries skipped by the inbox")
        after = await counters(client)
        assert after["applied"] - before["applied"] == 1
        assert after["dead"] == before["dead"]
        assert await read_model(app) == (1, 1, 0)


async def test_database_outage_longer_than_max_deliver_loses_no_event(
    db: DbFactory, clean_nats: str
) -> None:
    """While the database is down the event can be neither applied nor dead-lettered; it must
    come back until the database answers, and then be applied once."""
    app = create_app(settings(db.new("probe"), clean_nats, consumer_max_deliver=2))
    async with running(app) as client:
        consumer = the_consumer(app)
        database = SwitchableDatabase(consumer.db)
        consumer.db = database  # type: ignore[assignment]
        database.down = True
        event = applied_event()
        await publish(clean_nats, event, ProviderApplied.subject())

        async def gave_up_twice() -> bool:
            # delivery 1: apply refused; delivery 2 (the last allowed): apply and dead letter
            return database.refused >= 3

        await eventually(gave_up_twice, timeout=15, what="max_deliver deliveries refused")
        database.down = False

        async def applied() -> bool:
            return (await read_model(app))[0] == 1

        await eventually(applied, timeout=20, what="event applied after the database returned")
        assert await read_model(app) == (1, 1, 0)
        assert (await client.get("/ops/dead-letters")).json()["items"] == []


async def test_replicas_racing_on_one_event_apply_it_once(db: DbFactory) -> None:
    """Two replicas hold the same event at once (a redelivery after ack_wait while the first
    is still working): one applies it, the other counts it as a duplicate, neither fails."""
    target = db.new("probe")
    databases = [Database(target.url, schema=target.schema) for _ in range(2)]
    await upgrade(databases[0], MIGRATIONS, service="probe")
    inside = 0
    both_inside = asyncio.Event()

    async def slow_handler(s: AsyncSession, env: Envelope) -> None:
        nonlocal inside
        inside += 1
        if inside == 2:
            both_inside.set()
        # Wait (bounded) for the other replica to get this far too. On SQLite it cannot:
        # write transactions are serialised, so it finds the inbox row instead.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_inside.wait(), 0.5)
        await record(s, env)

    replicas = [
        Consumer(name=CONSUMER, stream="REGISTRY", handlers={ProviderApplied.event_type():
                 slow_handler}, db=d, plumbing=plumbing,
                 link=NatsLink("nats://127.0.0.1:1", "unused"), service="probe")
        for d in databases
    ]
    try:
        event = applied_event()
        results = await asyncio.wait_for(
            asyncio.gather(*(r._apply(event, slow_handler) for r in replicas)), 30
        )
        assert sorted(results) == [False, True]
        rows = await counts(databases[0])
        assert (rows["recorded"], rows["inbox"]) == (1, 1)
    finally:
        for d in databases:
            await d.dispose()


async def test_replicas_on_one_durable_apply_every_event_once(
    db: DbFactory, clean_nats: str
) -> None:
    """Two replicas share the database and the durable consumer; every event is
    published twice (fresh Nats-Msg-Id, so JetStream keeps both): each is applied once."""
    target = db.new("probe")
    first = create_app(settings(target, clean_nats, consumer_batch=5))
    second = create_app(settings(target, clean_nats, consumer_batch=5))
    async with running(first) as client, running(second):
        before = await counters(client)
        events = [applied_event(f"Replika {i} Oy") for i in range(30)]
        nc = await nats.connect(clean_nats)
        try:
            js = nc.jetstream()
            for env in events + events:
                await js.publish(ProviderApplied.subject(), env.model_dump_json().encode(),
                                 headers={"Nats-Msg-Id": uuid.uuid4().hex})
        finally:
            await nc.close()

        async def settled() -> bool:
            c = await counters(client)
            return c["applied"] - before["applied"] + c["duplicate"] - before["duplicate"] == 60

        await eventually(settled, timeout=30, what="60 deliveries processed")
        after = await counters(client)
        assert after["applied"] - before["applied"] == 30
        assert after["dead"] == before["dead"]
        assert await read_model(first) == (30, 30, 0)


@asynccontextmanager
async def consumer_info(nats_url: str) -> AsyncIterator[Any]:
    nc = await nats.connect(nats_url)
    try:
        yield await nc.jetstream().consumer_info("REGISTRY", CONSUMER)
    finally:
        await nc.close()


async def test_durable_consumer_follows_the_configured_settings(
    db: DbFactory, clean_nats: str
) -> None:
    """A redeploy with another ack_wait changes the durable consumer on the broker (it is not
    left with the settings of the first deployment); JetStream itself never gives up on a
    message: the service dead-letters it after consumer_max_deliver deliveries."""
    target = db.new("probe")
    async with running(create_app(settings(target, clean_nats))):

        async def durable_ack_wait() -> float | None:
            try:
                async with consumer_info(clean_nats) as info:
                    return float(info.config.ack_wait)
            except nats.js.errors.NotFoundError:
                return None

        assert await eventually(durable_ack_wait, what="durable created") == 30.0
    redeployed = create_app(settings(target, clean_nats, consumer_ack_wait_seconds=4.0,
                                      consumer_max_deliver=3))
    async with running(redeployed):
        event = applied_event()
        await publish(clean_nats, event, ProviderApplied.subject())

        async def seen() -> bool:
            return (await read_model(redeployed))[0] == 1

        await eventually(seen, what="event applied by the redeployed consumer")
    async with consumer_info(clean_nats) as info:
        assert info.config.ack_wait == 4.0
        assert info.config.max_deliver in (None, -1)
