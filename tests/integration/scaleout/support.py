"""Helpers of the scale-out tests: a 3-node cluster's readiness and stream state, and a
watcher that consumes the VOUCHER stream and records every event it applies (an event applied
twice shows as two rows)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
from sqlalchemy import Column, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope, EventPayload
from contracts.voucher import VoucherServiceEvent
from kit.broker import NatsLink, ensure_streams
from kit.consumer import Consumer
from kit.db import Database
from kit.orm import new_metadata
from kit.tables import PlumbingTables, SeqType, plumbing_tables


async def cluster_ready(url: str, timeout: float = 30.0) -> None:
    """Wait (bounded) until the cluster has a JetStream leader and takes R3 streams."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Exception | None = None
    while loop.time() < deadline:
        try:
            nc = await nats.connect(servers=url.split(","), connect_timeout=2)
            try:
                await ensure_streams(nc.jetstream(timeout=5), replicas=3)
                return
            finally:
                await nc.close()
        except Exception as exc:  # no meta leader yet
            last = exc
            await asyncio.sleep(0.25)
    raise AssertionError(f"cluster not ready in {timeout}s: {last!r}")


async def stream_state(url: str, stream: str) -> tuple[int, str, list[tuple[str, bool]]]:
    """(messages, leader's server name, [(replica, current)]) of ``stream``."""
    nc = await nats.connect(servers=url.split(","), connect_timeout=2)
    try:
        info = await nc.jetstream(timeout=5).stream_info(stream)
        cluster = info.cluster
        assert cluster is not None and cluster.leader
        replicas = [(r.name, bool(r.current)) for r in cluster.replicas or []]
        return int(info.state.messages), cluster.leader, replicas
    finally:
        await nc.close()



watcher_metadata = new_metadata()
watcher_plumbing = plumbing_tables(watcher_metadata)
applied = Table("applied", watcher_metadata,  # event_id not unique: applied twice shows twice
                Column("seq", SeqType, primary_key=True, autoincrement=True),
                Column("event_id", String(64), nullable=False))


def event_types(cls: type[EventPayload]) -> Iterator[str]:
    for sub in cls.__subclasses__():
        if "name" in sub.__dict__:
            yield sub.event_type()
        yield from event_types(sub)


async def record(s: AsyncSession, envelope: Envelope) -> None:
    await s.execute(insert(applied).values(event_id=envelope.id))


def watcher(db: Database, link: NatsLink) -> Consumer:
    """A durable consumer of every voucher event, recording each application in ``db``."""
    return Consumer(name="watcher-from-voucher", stream="VOUCHER",
                    handlers=dict.fromkeys(event_types(VoucherServiceEvent), record),
                    db=db, plumbing=watcher_plumbing, link=link, service="watcher", ack_wait=5)


async def applications(db: Database) -> tuple[int, int]:
    """(events applied by the watcher, distinct events)."""
    async with db.reader() as s:
        n = await s.scalar(select(func.count()).select_from(applied))
        distinct = await s.scalar(select(func.count(func.distinct(applied.c.event_id))))
    return int(n or 0), int(distinct or 0)


async def outbox(db: Database, plumbing: PlumbingTables) -> tuple[int, int]:
    """(rows, rows not yet acknowledged by JetStream)."""
    t = plumbing.outbox
    async with db.reader() as s:
        total = await s.scalar(select(func.count()).select_from(t))
        pending = await s.scalar(select(func.count()).select_from(t).where(
            t.c.published_at.is_(None)))
    return int(total or 0), int(pending or 0)
