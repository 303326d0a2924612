"""The relay against a real JetStream: a backlog goes out as atomic batches, in outbox order,
each event with its ``Nats-Msg-Id``; a batch holding an event the stream already has is
refused as a whole and sent again event by event, so nothing is stored twice; a stream that
takes no atomic batches gets single publishes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import update

from contracts.events import EventPayload
from kit.broker import NatsLink
from kit.db import Database
from kit.orm import new_metadata
from kit.outbox import OutboxRelay, add_event
from kit.tables import plumbing_tables
from tests.support import database_of, sqlite_target

metadata = new_metadata()
tables = plumbing_tables(metadata)
STREAM = "BATCHTEST"


class Counted(EventPayload):
    service = "batchtest"
    name = "counted"
    n: int


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_of(metadata, sqlite_target(tmp_path, "outbox")) as db:
        yield db


@pytest.fixture
async def link(clean_nats: str) -> AsyncIterator[NatsLink]:
    link = NatsLink(clean_nats, "batch-test")
    link.start()
    js = await link.wait()
    try:
        yield link
    finally:
        with contextlib.suppress(NotFoundError):  # not one of the streams the broker resets
            await js.delete_stream(STREAM)
        await link.close()


async def stream(js: JetStreamContext, *, atomic: bool) -> None:
    await js.add_stream(StreamConfig(name=STREAM, subjects=["seteli.batchtest.>"],
                                     storage=StorageType.FILE, duplicate_window=120,
                                     allow_atomic=atomic))


async def write(db: Database, numbers: range) -> list[str]:
    async with db.session() as s:
        ids = [(await add_event(s, tables, Counted(n=n))).id for n in numbers]
        await s.commit()
    return ids


async def stored(js: JetStreamContext) -> list[tuple[str, bool]]:
    """(Nats-Msg-Id, came in a batch) of every message in the stream, in stream order."""
    last = (await js.stream_info(STREAM)).state.last_seq
    out = []
    for seq in range(1, last + 1):
        headers = (await js.get_msg(STREAM, seq)).headers or {}
        out.append((headers["Nats-Msg-Id"], "Nats-Batch-Id" in headers))
    return out


async def test_a_backlog_goes_as_atomic_batches_and_a_repeat_is_not_stored_twice(
    database: Database, link: NatsLink
) -> None:
    js = await link.wait()
    await stream(js, atomic=True)
    relay = OutboxRelay(database, tables, link, service="batchtest", batch=40)
    first = await write(database, range(100))
    assert await relay.publish_pending(js) == (40, True)
    assert await relay.publish_pending(js) == (40, True)
    assert await relay.publish_pending(js) == (20, False)
    assert relay._atomic
    assert await stored(js) == [(i, True) for i in first]
    # A relay that died after publishing rows 91..100 but before marking them: they come
    # again with new ones; the batch is refused as a whole, then sent event by event.
    outbox = tables.outbox
    async with database.session() as s:
        await s.execute(update(outbox).where(outbox.c.seq > 90).values(published_at=None))
        await s.commit()
    more = await write(database, range(100, 105))
    assert await relay.publish_pending(js) == (15, False)
    assert relay._atomic  # a refused batch does not turn batches off
    assert await stored(js) == [(i, True) for i in first] + [(i, False) for i in more]
    assert await relay.backlog() == 0


async def test_a_stream_without_atomic_batches_gets_single_publishes(
    database: Database, link: NatsLink
) -> None:
    js = await link.wait()
    await stream(js, atomic=False)
    relay = OutboxRelay(database, tables, link, service="batchtest", batch=40)
    ids = await write(database, range(30))
    assert await relay.publish_pending(js) == (30, False)
    assert not relay._atomic
    assert await stored(js) == [(i, False) for i in ids]
