"""What :class:`kit.consumer.Consumer` does with one delivered message: apply + inbox in one
transaction then ack; nak with a delay on failure; dead letter (table + outbox) and term after
``max_deliver``. Driven with scripted messages on a real SQLite file, no broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Column, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from kit.broker import NatsLink
from kit.consumer import Consumer
from kit.db import Database
from kit.orm import new_metadata
from kit.tables import plumbing_tables
from tests.support import database_of, sqlite_target

EVENT_TYPE = "fi.seteli.test.thing.happened.v1"
SUBJECT = "seteli.registry.v1.thing.happened"

metadata = new_metadata()
tables = plumbing_tables(metadata)
applied = Table("applied", metadata, Column("event_id", String(64), primary_key=True))


@dataclass
class ScriptedMsg:
    """Stands in for a JetStream message: records what the consumer answered."""

    data: bytes
    num_delivered: int = 1
    stream_seq: int = 1
    subject: str = SUBJECT
    fail_ack: bool = False
    calls: list[str] = field(default_factory=list)
    nak_delay: float | None = None

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(
            num_delivered=self.num_delivered, sequence=SimpleNamespace(stream=self.stream_seq)
        )

    async def ack(self) -> None:
        if self.fail_ack:
            raise ConnectionError("connection lost before the ack went out")
        self.calls.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.calls.append("nak")
        self.nak_delay = delay

    async def term(self) -> None:
        self.calls.append("term")


class UnreachableDatabase:
    """A database that is down: every session fails to connect."""

    def session(self) -> AsyncSession:
        raise OperationalError("connect", {}, ConnectionRefusedError("database is down"))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_of(metadata, sqlite_target(tmp_path, "consumer")) as db:
        yield db


def envelope(event_id: str | None = None) -> Envelope:
    return Envelope(
        id=event_id or str(uuid.uuid4()), source="/seteli/test", type=EVENT_TYPE, data={"n": 1}
    )


class Handler:
    """Writes one row per applied event; can be told to fail after writing."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, s: AsyncSession, env: Envelope) -> None:
        self.calls += 1
        await s.execute(insert(applied).values(event_id=env.id))
        if self.calls <= self.failures:
            raise ValueError("handler failed after writing")


def consumer(db: Any, handler: Handler, *, max_deliver: int = 3) -> Consumer:
    return Consumer(
        name="test-consumer", stream="REGISTRY", handlers={EVENT_TYPE: handler}, db=db,
        plumbing=tables, link=NatsLink("nats://127.0.0.1:1", "test"), service="test",
        max_deliver=max_deliver,
    )


async def count(db: Database, table: Table) -> int:
    async with db.reader() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def test_applied_once_then_acked(database: Database) -> None:
    handler = Handler()
    c = consumer(database, handler)
    env = envelope()
    first = ScriptedMsg(env.model_dump_json().encode())
    again = ScriptedMsg(env.model_dump_json().encode(), stream_seq=2)
    await c._process(first)  # type: ignore[arg-type]
    await c._process(again)  # type: ignore[arg-type]
    assert first.calls == ["ack"] and again.calls == ["ack"]
    assert handler.calls == 1
    assert await count(database, applied) == 1
    assert await count(database, tables.inbox) == 1


async def test_event_of_another_type_is_acked_and_not_recorded(database: Database) -> None:
    c = consumer(database, Handler())
    other = envelope().model_copy(update={"type": "fi.seteli.test.other.v1"})
    msg = ScriptedMsg(other.model_dump_json().encode())
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.calls == ["ack"]
    assert await count(database, tables.inbox) == 0


async def test_failure_rolls_back_the_handlers_writes_and_naks_with_a_delay(
    database: Database,
) -> None:
    handler = Handler(failures=1)
    c = consumer(database, handler)
    env = envelope()
    msg = ScriptedMsg(env.model_dump_json().encode(), num_delivered=1)
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.calls == ["nak"] and msg.nak_delay and msg.nak_delay > 0
    assert await count(database, applied) == 0  # the handler's insert was rolled back
    assert await count(database, tables.inbox) == 0
    retry = ScriptedMsg(env.model_dump_json().encode(), num_delivered=2)
    await c._process(retry)  # type: ignore[arg-type]
    assert retry.calls == ["ack"]
    assert (await count(database, applied), await count(database, tables.inbox)) == (1, 1)


async def test_last_failed_delivery_is_dead_lettered_and_terminated(database: Database) -> None:
    c = consumer(database, Handler(failures=99), max_deliver=3)
    env = envelope()
    msg = ScriptedMsg(env.model_dump_json().encode(), num_delivered=3, stream_seq=7)
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.calls == ["term"]
    async with database.reader() as s:
        dead = (await s.execute(select(tables.dead_letter))).mappings().one()
        outbox = (await s.execute(select(tables.outbox))).mappings().one()
    assert (dead["event_id"], dead["deliveries"], dead["consumer"]) == (env.id, 3, "test-consumer")
    assert "handler failed" in dead["error"]
    assert outbox["subject"] == "seteli.deadletter.test.test-consumer"
    assert Envelope.model_validate_json(outbox["payload"]).data["event_id"] == env.id
    assert outbox["published_at"] is None  # the relay publishes it
    assert await count(database, tables.inbox) == 0


async def test_unreadable_message_is_dead_lettered_by_stream_sequence(database: Database) -> None:
    c = consumer(database, Handler(), max_deliver=1)
    msg = ScriptedMsg(b"not json", num_delivered=1, stream_seq=42)
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.calls == ["term"]
    async with database.reader() as s:
        dead = (await s.execute(select(tables.dead_letter))).mappings().one()
    assert dead["event_id"] == "stream-seq-42" and dead["payload"] == "not json"


async def test_lost_ack_after_commit_is_not_dead_lettered(database: Database) -> None:
    """Applied and committed, then the ack is lost on the last allowed delivery: the event is
    in the read model, so it must not also land in the dead letters; the redelivery that
    follows is a no-op."""
    handler = Handler()
    c = consumer(database, handler, max_deliver=2)
    env = envelope()
    msg = ScriptedMsg(env.model_dump_json().encode(), num_delivered=2, fail_ack=True)
    await c._process(msg)  # type: ignore[arg-type]
    assert "term" not in msg.calls
    assert await count(database, tables.dead_letter) == 0
    redelivered = ScriptedMsg(env.model_dump_json().encode(), num_delivered=3)
    await c._process(redelivered)  # type: ignore[arg-type]
    assert redelivered.calls == ["ack"]
    assert handler.calls == 1
    assert (await count(database, applied), await count(database, tables.inbox)) == (1, 1)


async def test_database_down_on_the_last_delivery_keeps_the_event(database: Database) -> None:
    """Neither applied nor dead-lettered (the database is down): the message must come back,
    not be terminated or left to JetStream's delivery limit."""
    handler = Handler()
    c = consumer(UnreachableDatabase(), handler, max_deliver=2)
    env = envelope()
    msg = ScriptedMsg(env.model_dump_json().encode(), num_delivered=2)
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.calls == ["nak"] and msg.nak_delay and msg.nak_delay > 0
    c.db = database  # the database is back
    later = ScriptedMsg(env.model_dump_json().encode(), num_delivered=3)
    await c._process(later)  # type: ignore[arg-type]
    assert later.calls == ["ack"]
    assert (await count(database, applied), await count(database, tables.dead_letter)) == (1, 0)


async def test_dead_letter_written_once_when_the_term_is_lost(database: Database) -> None:
    """The term after the dead letter is lost and the message comes back: still one dead
    letter, one dead-letter event."""
    c = consumer(database, Handler(failures=99), max_deliver=2)
    env = envelope()
    for delivery in (2, 3):
        msg = ScriptedMsg(env.model_dump_json().encode(), num_delivered=delivery)
        await c._process(msg)  # type: ignore[arg-type]
        assert msg.calls == ["term"]
    assert await count(database, tables.dead_letter) == 1
    assert await count(database, tables.outbox) == 1
