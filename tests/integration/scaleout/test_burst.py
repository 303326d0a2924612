"""A 10,000-event burst into a 3-node JetStream cluster (R3 streams) while the node the
producer is connected to is SIGKILLed: every event JetStream acknowledged is on the stream
once and applied downstream once (0 missing, 0 applied twice)."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select

from contracts.registry import ProviderApplied
from kit import metrics
from kit.broker import NatsLink
from kit.natsserver import NatsCluster
from kit.orm import new_metadata
from kit.outbox import OutboxRelay, add_events
from kit.tables import plumbing_tables
from tests import probe
from tests.integration.scaleout.support import stream_state
from tests.support import database_of, eventually, running, service_settings, sqlite_target

EVENTS = 10_000
BATCH = 1_000  # events per producing transaction

metadata = new_metadata()
plumbing = plumbing_tables(metadata)


def applied(consumer: str = probe.CONSUMER) -> float:
    return metrics.EVENTS_APPLIED.labels("probe", consumer)._value.get()


async def test_burst_while_a_node_is_killed(cluster: NatsCluster, tmp_path: Path) -> None:
    consumer = probe.create_app(service_settings(
        probe.Settings, sqlite_target(tmp_path, "probe"), cluster.url, stream_replicas=3))
    applied_before = applied()
    async with database_of(metadata, sqlite_target(tmp_path, "producer")) as db, \
            running(consumer):
        link = NatsLink(cluster.url, name="burst", replicas=3)
        relay = OutboxRelay(db, plumbing, link, service="burst", batch=500, poll_seconds=0.1)
        link.start()
        relay.start()
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

            await eventually(all_acknowledged, timeout=60, what="every event acknowledged")
            async with db.reader() as s:
                acked = await s.scalar(select(func.count()).select_from(plumbing.outbox).where(
                    plumbing.outbox.c.published_at.is_not(None)))
            assert acked == EVENTS

            async def all_applied() -> bool:
                return (await probe.counts(consumer.state.runtime.db))["recorded"] >= EVENTS

            await eventually(all_applied, timeout=120, interval=0.5,
                             what="every event applied downstream")
            counts = await probe.counts(consumer.state.runtime.db)
            assert counts["recorded"] == counts["inbox"] == EVENTS  # 0 missing
            assert applied() - applied_before == EVENTS  # 0 applied twice
            assert counts["dead"] == 0
            messages, _leader, _ = await stream_state(cluster.url, "REGISTRY")
            assert messages == EVENTS  # a publish retried over the failover is kept once
        finally:
            await relay.stop()
            await link.close()
