"""A 3-node NATS JetStream cluster on loopback, shared by the cluster tests of this package:
three nats-servers (client and cluster ports on 127.0.0.1), routes between them, streams with
three replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
import pytest

from contracts.events import STREAMS
from kit.broker import ensure_streams
from kit.natsserver import NatsCluster


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


@pytest.fixture(scope="package")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    cluster = NatsCluster(tmp_path_factory.mktemp("cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def cluster(nats_cluster: NatsCluster) -> NatsCluster:
    """The cluster with every node up and no streams left by an earlier test."""
    for i, node in enumerate(nats_cluster.nodes):
        if not node.running:
            nats_cluster.start_node(i)
    await cluster_ready(nats_cluster.url)
    nc = await nats.connect(servers=nats_cluster.url.split(","))
    for name in STREAMS:
        await nc.jetstream(timeout=10).delete_stream(name)
    await nc.close()
    await cluster_ready(nats_cluster.url)
    return nats_cluster
