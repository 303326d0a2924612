"""The batched consumer (kit.consumer, ``batched=True``) against a real nats-server and real
databases: a batch is applied in one transaction, and a poison event in it is isolated (the
batch is applied again one event per transaction; the poison alone is dead-lettered)."""

from __future__ import annotations

import uuid

import nats
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import ProviderApplied
from kit.broker import NatsLink, ensure_streams
from kit.consumer import Consumer
from kit.db import Database
from kit.migrate import upgrade
from tests.probe import CONSUMER, MIGRATIONS, counts, plumbing, record
from tests.support import DbFactory, eventually

POISON = "Myrkky Oy"


def applied(name: str) -> Envelope:
    return ProviderApplied(provider_id=str(uuid.uuid4()), business_id="1234567-1",
                           legal_name=name, regions=["pirkanmaa"]).envelope()


async def test_a_poison_event_is_dead_lettered_and_the_rest_of_its_batch_applied(
    db: DbFactory, clean_nats: str
) -> None:
    target = db.new("probe")
    database = Database(target.url, schema=target.schema)
    await upgrade(database, MIGRATIONS, service="probe")
    batches: list[int] = []

    async def handler(s: AsyncSession, env: Envelope) -> None:
        if env.data["legal_name"] == POISON:
            raise ValueError("this event cannot be applied")
        await record(s, env)

    link = NatsLink(clean_nats, name="probe")
    consumer = Consumer(name=CONSUMER, stream="REGISTRY",
                        handlers={ProviderApplied.event_type(): handler}, db=database,
                        plumbing=plumbing, link=link, service="probe", max_deliver=2,
                        batch=50, batched=True)
    real_batch = consumer._apply_batch

    async def counted(msgs: list[nats.aio.msg.Msg]) -> tuple[int, int]:
        batches.append(len(msgs))
        return await real_batch(msgs)

    consumer._apply_batch = counted  # type: ignore[method-assign]
    events = [applied(f"Erä {i} Oy") for i in range(40)]
    events.insert(17, applied(POISON))
    nc = await nats.connect(clean_nats)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        for env in events:
            await js.publish(ProviderApplied.subject(), env.model_dump_json().encode(),
                             headers={"Nats-Msg-Id": env.id})
    finally:
        await nc.close()
    link.start()
    consumer.start()
    try:
        async def settled() -> bool:
            rows = await counts(database)
            return rows["recorded"] == 40 and rows["dead"] == 1

        await eventually(settled, timeout=30, what="40 applied and the poison dead-lettered")
        rows = await counts(database)
        assert (rows["recorded"], rows["inbox"], rows["dead"]) == (40, 40, 1)
        assert batches and max(batches) > 1  # the batched path was taken
    finally:
        await consumer.stop()
        await link.close()
        await database.dispose()
