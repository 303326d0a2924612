"""A 3-node NATS JetStream cluster on loopback, shared by the cluster tests of this package:
three nats-servers (client and cluster ports on 127.0.0.1), routes between them, streams with
three replicas."""

from __future__ import annotations

from collections.abc import Iterator

import nats
import pytest

from contracts.events import STREAMS
from kit.natsserver import NatsCluster
from tests.integration.scaleout.support import cluster_ready


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
