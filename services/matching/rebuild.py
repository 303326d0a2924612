"""Rebuild the matching service's read models from the event streams:
``python -m services.matching.rebuild`` (with the service's environment: MATCHING_DATABASE_URL,
NATS_URL …; stop the service first).

It empties the read models (providers, accreditations, offerings, vouchers, ratings) and the
consumers' inbox, then reads the REGISTRY and VOUCHER streams from their first message to
their last, applying every event with the service's own handlers in batches, recording each in
the inbox under the service's consumer names. The service's durable consumers are not touched:
when the service starts again, events up to the end of the replay are skipped by the inbox and
later ones are applied as usual. Assignment runs, overrides and statistics publications are the
service's own decisions and are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.events import STREAMS, Envelope
from kit.broker import NatsLink, ensure_streams
from kit.consumer import Consumer
from kit.db import Database
from kit.migrate import upgrade
from services.matching import repository
from services.matching.consumers import specs
from services.matching.models import plumbing
from services.matching.settings import Settings

BATCH = 500


async def replay(consumer: Consumer, js: nats.js.JetStreamContext) -> int:
    """Apply the consumer's stream from its first message to its last one now."""
    info = await js.stream_info(consumer.stream)
    last = int(info.state.last_seq or 0)
    if not info.state.messages:
        return 0
    sub = await js.pull_subscribe(STREAMS[consumer.stream], stream=consumer.stream,
                                  config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL,
                                                        ack_policy=AckPolicy.NONE,
                                                        inactive_threshold=60.0))
    seen = 0
    try:
        while True:
            try:
                msgs = await sub.fetch(BATCH, timeout=2.0)
            except nats.errors.TimeoutError:
                break
            envelopes = [Envelope.model_validate_json(m.data) for m in msgs]
            try:
                await consumer.apply_envelopes(envelopes)
            except Exception:  # one event cannot be applied: the others still are
                for envelope in envelopes:
                    with contextlib.suppress(Exception):
                        await consumer.apply_one(envelope)
            seen += len(msgs)
            if int(msgs[-1].metadata.sequence.stream) >= last:
                break
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return seen


async def rebuild(settings: Settings) -> dict[str, int]:
    """Empty the read models and replay both streams. Returns events read per consumer."""
    db = Database(settings.database_url, schema=settings.database_schema)
    link = NatsLink(settings.nats_url, name="matching-rebuild")  # never started: not used
    try:
        await upgrade(db, str(Path(__file__).parent / "migrations"), service="matching")
        chosen = [Consumer(name=name, stream=stream, handlers=handlers, db=db,
                           plumbing=plumbing, link=link, service=settings.service_name,
                           batched=True, batch=BATCH, batch_handlers=batch)
                  for name, stream, handlers, batch in specs()]
        async with db.session() as s:
            await repository.drop_read_models(s, [c.name for c in chosen])
            await s.commit()
        nc = await nats.connect(settings.nats_url)
        try:
            js = nc.jetstream()
            await ensure_streams(js, replicas=settings.stream_replicas)
            return {c.name: await replay(c, js) for c in chosen}
        finally:
            await nc.close()
    finally:
        await db.dispose()


def main() -> None:
    print(json.dumps(asyncio.run(rebuild(Settings())), indent=2))


if __name__ == "__main__":
    main()
