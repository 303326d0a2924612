"""A 10,000-event burst into a 3-node JetStream cluster (R3 streams) while the node the
producer is connected to is SIGKILLed: every event JetStream acknowledged is on the stream
once and applied downstream once (0 missing, 0 applied twice), by an inbox-guarded durable
consumer that applies each fetched batch in one transaction."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select

from contracts.registry import ProviderApplied
from kit.broker import NatsLink
from kit.natsserver import NatsCluster
from kit.orm import new_metadata
from kit.outbox import OutboxRelay, add_events
from kit.tables import plumbing_tables
from tests.integration.scaleout.support import (
    applications,
    stream_state,
    watcher,
    watcher_metadata,
    watcher_plumbing,
)
from tests.support import database_of, eventually, sqlite_target

EVENTS = 10_000
BATCH = 1_000  # events per producing transaction

metadata = new_metadata()
plumbing = plumbing_tables(metadata)


async def test_burst_while_a_node_is_killed(cluster: NatsCluster, tmp_path: Path) -> None:
    async with database_of(metadata, sqlite_target(tmp_path, "producer")) as db, \
            database_of(watcher_metadata, sqlite_target(tmp_path, "consumer")) as wdb:
        link = NatsLink(cluster.url, name="burst", replicas=3)
        relay = OutboxRelay(db, plumbing, link, service="burst", batch=500, poll_seconds=0.1)
        consumer_link = NatsLink(cluster.url, name="burst-consumer", replicas=3)
        consumer = watcher(wdb, consumer_link, stream="REGISTRY",
                           types=[ProviderApplied.event_type()], batched=True)
        for task in (link, relay, consumer_link, consumer):
            task.start()
        try:
            await link.wait()
            killed = None
            for n in range(EVENTS // BATCH):
                async with db.session() as s:
                    await add_events(s, plumbing, [
                        (ProviderApplied(provider_id=str(uuid.uuid4()), region="pirkanmaa",
                                         regions=["pirkanmaa"], business_id="1234567-1",
                                         legal_name=f"Oy {n}-{i}"), None)
                        for i in range(BATCH)])
                    await s.commit()
                if n == 2:  # mid-burst: the node the producer talks to dies
                    assert link.nc is not None and link.nc.connected_url is not None
                    killed = cluster.nodes.index(next(
                        node for node in cluster.nodes
                        if node.port == link.nc.connected_url.port))
                    cluster.kill(killed)
            assert killed is not None

            async def all_acknowledged() -> bool:
                return await relay.backlog() == 0

            await eventually(all_acknowledged, timeout=90, what="every event acknowledged")
            async with db.reader() as s:
                acked = set((await s.scalars(select(plumbing.outbox.c.event_id).where(
                    plumbing.outbox.c.published_at.is_not(None)))).all())
            assert len(acked) == EVENTS

            async def all_applied() -> bool:
                return (await applications(wdb))[0] >= EVENTS

            await eventually(all_applied, timeout=90, what="every event applied downstream")
            assert await applications(wdb) == (EVENTS, EVENTS)  # 0 missing, 0 applied twice
            async with wdb.reader() as s:
                dead = await s.scalar(select(func.count()).select_from(
                    watcher_plumbing.dead_letter))
            assert dead == 0
            messages, _leader, _ = await stream_state(cluster.url, "REGISTRY")
            assert messages == EVENTS  # a publish retried over the failover is kept once
        finally:
            await consumer.stop()
            await relay.stop()
            await consumer_link.close()
            await link.close()
