"""The outbox side of :mod:`kit.outbox`: an event exists only if its transaction commits, the
relay is woken by commits, publishes in outbox order with ``Nats-Msg-Id`` = event id and marks
only what JetStream acknowledged. A scripted JetStream stands in for the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from contracts.events import Envelope, EventPayload
from kit.broker import NatsLink
from kit.db import Database
from kit.orm import new_metadata
from kit.outbox import OutboxRelay, add_event
from kit.tables import plumbing_tables
from tests.support import database_of, sqlite_target

metadata = new_metadata()
tables = plumbing_tables(metadata)


class ThingHappened(EventPayload):
    service = "test"
    name = "thing.happened"
    n: int


class ScriptedJetStream:
    """Records publishes; those whose event id is in ``refuse`` fail like a timeout."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, Envelope]] = []
        self.refuse: set[str] = set()

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str], timeout: float
    ) -> object:
        msg_id = headers["Nats-Msg-Id"]
        if msg_id in self.refuse:
            raise TimeoutError("no acknowledgement from JetStream")
        self.published.append((subject, msg_id, Envelope.model_validate_json(payload)))
        return object()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_of(metadata, sqlite_target(tmp_path, "outbox")) as db:
        yield db


def relay(db: Database, *, batch: int = 200) -> OutboxRelay:
    return OutboxRelay(db, tables, NatsLink("nats://127.0.0.1:1", "test"), service="test",
                       batch=batch)


async def write(db: Database, *numbers: int, commit: bool = True) -> list[Envelope]:
    async with db.session() as s:
        envs = [await add_event(s, tables, ThingHappened(n=n), resource=f"thing/{n}")
                for n in numbers]
        if commit:
            await s.commit()
        else:
            await s.rollback()
    return envs


async def pending(db: Database) -> int:
    t = tables.outbox
    async with db.reader() as s:
        n = await s.scalar(select(func.count()).select_from(t).where(t.c.published_at.is_(None)))
    return int(n or 0)


async def test_rolled_back_event_never_exists_and_does_not_wake_the_relay(
    database: Database,
) -> None:
    r = relay(database)
    woken: list[bool] = []
    database.set_session_info("outbox_wakeup", lambda: woken.append(True))
    await write(database, 1, commit=False)
    assert woken == []
    async with database.reader() as s:
        assert await s.scalar(select(func.count()).select_from(tables.outbox)) == 0
    js = ScriptedJetStream()
    assert await r.publish_pending(js) == (0, False)  # type: ignore[arg-type]
    assert js.published == []


async def test_commit_wakes_the_relay(database: Database) -> None:
    r = relay(database)
    assert not r._wake.is_set()
    await write(database, 1, 2)
    assert r._wake.is_set()
    assert await r.backlog() == 2


async def test_publishes_in_outbox_order_with_the_event_id_as_message_id(
    database: Database,
) -> None:
    r = relay(database)
    envs = await write(database, 1, 2, 3)
    js = ScriptedJetStream()
    assert await r.publish_pending(js) == (3, False)  # type: ignore[arg-type]
    assert [(s, m) for s, m, _ in js.published] == [
        (ThingHappened.subject(), e.id) for e in envs
    ]
    assert [e.data["n"] for _, _, e in js.published] == [1, 2, 3]
    assert js.published[0][2].subject == "thing/1"
    assert js.published[0][2].type == "fi.seteli.test.thing.happened.v1"
    assert await pending(database) == 0
    assert await r.publish_pending(js) == (0, False)  # type: ignore[arg-type]
    assert len(js.published) == 3


async def test_only_acknowledged_events_are_marked_and_the_rest_retried(
    database: Database,
) -> None:
    r = relay(database)
    envs = await write(database, 1, 2, 3)
    js = ScriptedJetStream()
    js.refuse = {envs[1].id}
    with pytest.raises(TimeoutError):
        await r.publish_pending(js)  # type: ignore[arg-type]
    assert await pending(database) == 1
    js.refuse = set()
    assert await r.publish_pending(js) == (1, False)  # type: ignore[arg-type]
    assert [m for _, m, _ in js.published] == [envs[0].id, envs[2].id, envs[1].id]
    assert await pending(database) == 0


async def test_a_full_batch_asks_for_another_round(database: Database) -> None:
    r = relay(database, batch=2)
    await write(database, 1, 2, 3)
    js: Any = ScriptedJetStream()
    assert await r.publish_pending(js) == (2, True)
    assert await r.publish_pending(js) == (1, False)
    assert await pending(database) == 0


async def test_a_batch_ends_at_its_payload_bytes_and_asks_for_another_round(
    database: Database,
) -> None:
    """Large events (a run's chunks of proposals) go a few per round: at most batch_bytes of
    payload, but always at least one event, in order."""
    r = relay(database)
    await write(database, 1, 2, 3)
    async with database.reader() as s:
        size = len((await s.execute(select(tables.outbox.c.payload))).scalars().first() or "")
    r.batch_bytes = 2 * size  # two events a round
    js: Any = ScriptedJetStream()
    assert await r.publish_pending(js) == (2, True)
    assert await r.publish_pending(js) == (1, False)
    r.batch_bytes = 1  # less than one event: still one at a time
    await write(database, 4, 5)
    assert await r.publish_pending(js) == (1, True)
    assert await r.publish_pending(js) == (1, False)
    assert [e.data["n"] for _, _, e in js.published] == [1, 2, 3, 4, 5]
