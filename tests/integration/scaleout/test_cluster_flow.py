"""A voucher flow on a 3-node JetStream cluster (R3 streams): one node is SIGKILLed in the
middle of it, later the leader of the VOUCHER stream; every committed event is on its stream
once and applied downstream exactly once (registry → voucher, voucher → a watcher)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Column, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope, EventPayload
from contracts.voucher import VoucherServiceEvent
from kit.broker import NatsLink
from kit.consumer import Consumer
from kit.db import Database
from kit.natsserver import NatsCluster
from kit.orm import new_metadata
from kit.tables import PlumbingTables, SeqType, plumbing_tables
from services.registry.main import create_app as registry_app
from services.registry.models import plumbing as registry_plumbing
from services.registry.settings import Settings as RegistrySettings
from services.voucher.main import create_app as voucher_app
from services.voucher.models import plumbing as voucher_plumbing
from services.voucher.settings import Settings as VoucherSettings
from tests.integration.registry.conftest import Registry
from tests.integration.scaleout.conftest import cluster_ready, stream_state
from tests.integration.voucher.conftest import Market
from tests.support import database_of, eventually, running, service_settings, sqlite_target

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


async def outbox(db: Database, plumbing: PlumbingTables) -> tuple[int, int]:
    """(rows, rows not yet acknowledged by JetStream)."""
    t = plumbing.outbox
    async with db.reader() as s:
        total = await s.scalar(select(func.count()).select_from(t))
        pending = await s.scalar(select(func.count()).select_from(t).where(
            t.c.published_at.is_(None)))
    return int(total or 0), int(pending or 0)


async def test_voucher_flow_survives_a_node_and_the_stream_leader(
    cluster: NatsCluster, tmp_path: Path
) -> None:
    url = cluster.url
    reg_settings = service_settings(RegistrySettings, sqlite_target(tmp_path, "registry"), url,
                                    stream_replicas=3)
    settings = service_settings(VoucherSettings, sqlite_target(tmp_path, "voucher"), url,
                                stream_replicas=3)
    reg, vou = registry_app(reg_settings), voucher_app(settings)
    async with running(reg) as r, running(vou) as v, \
            database_of(watcher_metadata, sqlite_target(tmp_path, "watcher")) as wdb:
        link = NatsLink(url, name="watcher", replicas=3)
        watcher = Consumer(name="watcher-from-voucher", stream="VOUCHER",
                           handlers=dict.fromkeys(event_types(VoucherServiceEvent), record),
                           db=wdb, plumbing=watcher_plumbing, link=link, service="watcher",
                           ack_wait=5)
        link.start()
        watcher.start()
        try:
            market = Market(v, vou, Registry(r, reg, url, reg_settings.principal_secret),
                            settings)
            await market.catalogue()
            _pid, oid = await market.offering(1, capacity=50)
            budget = await market.open_budget(("region", 100 * 150_000))
            vouchers: list[str] = []

            async def issue(n: int) -> None:
                for _ in range(n):
                    r = await market.issue(budget["id"])
                    assert r.status_code == 201, r.text
                    vouchers.append(r.json()["id"])

            await issue(5)
            cluster.kill(1)  # one node dies mid-flow
            await issue(5)
            for vid in vouchers[:5]:
                r = await market.client.post(f"/vouchers/{vid}/choice",
                                             json={"offering_id": oid}, headers=market.citizen())
                assert r.status_code in (200, 201), r.text
            _pid2, _oid2 = await market.offering(2)  # registry → voucher meanwhile
            cluster.start_node(1)
            await cluster_ready(url)

            async def replicas_current() -> bool:
                _, _, replicas = await stream_state(url, "VOUCHER")
                return len(replicas) == 2 and all(current for _, current in replicas)

            await eventually(replicas_current, timeout=30, what="VOUCHER replicas current")
            _, leader, _ = await stream_state(url, "VOUCHER")
            cluster.kill(cluster.index_of(leader))  # later the stream leader
            await issue(5)
            _pid3, _oid3 = await market.offering(3)

            async def all_published() -> bool:
                return ((await outbox(market.db, voucher_plumbing))[1] == 0
                        and (await outbox(reg.state.runtime.db, registry_plumbing))[1] == 0)

            await eventually(all_published, timeout=30, what="both outboxes published")
            voucher_events, _ = await outbox(market.db, voucher_plumbing)
            registry_events, _ = await outbox(reg.state.runtime.db, registry_plumbing)

            async def all_applied() -> bool:
                async with wdb.reader() as s:
                    n = await s.scalar(select(func.count()).select_from(applied))
                return n == voucher_events

            await eventually(all_applied, timeout=30, what="voucher events applied downstream")
            async with wdb.reader() as s:
                distinct = await s.scalar(select(func.count(func.distinct(applied.c.event_id))))
            assert distinct == voucher_events  # each once
            assert (await stream_state(url, "VOUCHER"))[0] == voucher_events
            assert (await stream_state(url, "REGISTRY"))[0] == registry_events
            assert len(vouchers) == 15
        finally:
            await watcher.stop()
            await link.close()
