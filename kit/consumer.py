"""The inbox-guarded durable pull consumer of another service's stream.

A consumer applies an event and records its id in the inbox in one transaction, then acks: a
redelivered event is a no-op. After ``max_deliver`` failed deliveries the event is written to
the dead-letter table and, through the outbox, to ``seteli.deadletter.<service>.<consumer>``.

Batched (``batched=True``): a fetched batch is applied in one transaction, each event still
checked against and recorded in the inbox, then every message is acked. A type with a
``batch_handlers`` entry is applied set-based: each run of consecutive events of that type in
the batch is given to its handler at once (its ``handlers`` entry applies one event alone,
when the batch is retried one by one). If any event of the
batch fails, the transaction is rolled back and the batch is applied again one event per
transaction, so the failing (poison) event alone is retried and, in the end, dead-lettered,
while the rest are applied.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import nats
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import DEAD_LETTER_ROOT, STREAMS, Envelope
from kit import metrics
from kit.broker import NatsLink, ensure_streams
from kit.db import Database
from kit.outbox import write_outbox
from kit.tables import PlumbingTables
from kit.tasks import cancel_and_wait

log = structlog.get_logger("kit.consumer")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
# Applies many events of one type at once (set-based), in the batch's transaction.
BatchHandler = Callable[[AsyncSession, list[Envelope]], Awaitable[None]]


class Consumer:
    """A durable pull consumer on another service's stream, guarded by the inbox table."""

    def __init__(
        self,
        *,
        name: str,
        stream: str,
        handlers: Mapping[str, Handler],
        db: Database,
        plumbing: PlumbingTables,
        link: NatsLink,
        service: str,
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        batch: int = 100,
        batched: bool = False,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        self.name = name
        self.stream = stream
        self.handlers = handlers
        self.db = db
        self.plumbing = plumbing
        self.link = link
        self.service = service
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.batch = batch
        self.batched = batched
        self.batch_handlers = dict(batch_handlers or {})
        if set(self.batch_handlers) - set(handlers):
            # a batch that fails is applied again one event at a time, with ``handlers``
            raise ValueError("every batch-handled event type needs its one-event handler too")
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        """Create the durable consumer, or bring an existing one to the current settings.

        JetStream's own ``max_deliver`` is unlimited: the consumer decides when to give up
        (after ``self.max_deliver`` deliveries, once the dead letter is safely written), so a
        message is never dropped by the broker while it could be neither applied nor
        dead-lettered (e.g. the database is down)."""
        config = ConsumerConfig(
            name=self.name,
            durable_name=self.name,
            filter_subject=STREAMS[self.stream],
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=-1,
            ack_wait=self.ack_wait,
            max_ack_pending=1000,
        )
        try:
            await js.add_consumer(self.stream, config)
        except BadRequestError as exc:  # an existing durable whose config cannot change so
            log.warning("consumer_config_not_updated", consumer=self.name, error=repr(exc))
        return await js.pull_subscribe_bind(durable=self.name, stream=self.stream)

    async def lag(self) -> int | None:
        if self._sub is None:
            return None
        info = await self._sub.consumer_info()
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def _run(self) -> None:
        errors = 0
        loop = asyncio.get_running_loop()
        next_lag = 0.0
        while True:
            try:
                if self._sub is None:
                    js = await self.link.wait()
                    await ensure_streams(js, replicas=self.link.replicas)
                    self._sub = await self._subscribe(js)
                try:
                    msgs = await self._sub.fetch(self.batch, timeout=1.0)
                except nats.errors.TimeoutError:
                    msgs = []
                if self.batched and len(msgs) > 1:
                    await self._process_batch(msgs)
                else:
                    for msg in msgs:
                        await self._process(msg)
                errors = 0
                if loop.time() >= next_lag:
                    next_lag = loop.time() + 2.0
                    lag = await self.lag()
                    if lag is not None:
                        metrics.CONSUMER_LAG.labels(self.service, self.name).set(lag)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                errors += 1
                log.warning("consumer_fetch_failed", consumer=self.name, error=repr(exc))
                if errors >= 3:
                    # e.g. the broker came back without our consumer: subscribe again
                    with contextlib.suppress(Exception):
                        if self._sub is not None:
                            await self._sub.unsubscribe()
                    self._sub = None
                await asyncio.sleep(min(0.2 * errors, 2.0))

    async def _process(self, msg: Msg) -> None:
        deliveries = msg.metadata.num_delivered or 1
        envelope: Envelope | None = None
        try:
            envelope = Envelope.model_validate_json(msg.data)
            handler = self.handlers.get(envelope.type)
            # None: an event this consumer does not care about
            applied = None if handler is None else await self._apply(envelope, handler)
        except Exception as exc:
            await self._failed(msg, envelope, deliveries, exc)
            return
        # Committed: if the ack is lost, the redelivery that follows is skipped by the inbox.
        await self._answer(msg, "ack")
        if applied is True:
            metrics.EVENTS_APPLIED.labels(self.service, self.name).inc()
        elif applied is False:
            metrics.EVENTS_REDELIVERED.labels(self.service, self.name).inc()

    async def _process_batch(self, msgs: list[Msg]) -> None:
        """Apply ``msgs`` in one transaction; if anything fails, one by one instead."""
        try:
            applied, repeated = await self._apply_batch(msgs)
        except Exception as exc:
            log.info("batch_failed_one_by_one", consumer=self.name, size=len(msgs),
                     error=repr(exc))
            for msg in msgs:
                await self._process(msg)
            return
        for msg in msgs:
            await self._answer(msg, "ack")
        metrics.EVENTS_APPLIED.labels(self.service, self.name).inc(applied)
        metrics.EVENTS_REDELIVERED.labels(self.service, self.name).inc(repeated)

    async def _apply_batch(self, msgs: list[Msg]) -> tuple[int, int]:
        return await self.apply_envelopes([Envelope.model_validate_json(m.data) for m in msgs])

    async def apply_envelopes(self, envelopes: list[Envelope]) -> tuple[int, int]:
        """Apply every event of ``envelopes`` not in the inbox yet and record them, in one
        transaction (also used to replay a stream into a rebuilt read model). Returns
        (applied, seen before)."""
        inbox = self.plumbing.inbox
        ids = list(dict.fromkeys(e.id for e in envelopes))
        applied = repeated = 0
        async with self.db.session() as s:
            seen = set((await s.scalars(select(inbox.c.event_id).where(
                inbox.c.consumer == self.name, inbox.c.event_id.in_(ids)))).all())
            rows = []
            at = datetime.now(UTC)
            run: list[Envelope] = []  # consecutive events of one batch-handled type
            for envelope in envelopes:
                if envelope.id in seen:
                    repeated += 1
                    continue
                seen.add(envelope.id)
                if run and run[0].type != envelope.type:
                    await self.batch_handlers[run[0].type](s, run)
                    run = []
                handler = self.handlers.get(envelope.type)
                if envelope.type in self.batch_handlers:
                    run.append(envelope)
                elif handler is None:
                    continue
                else:
                    await handler(s, envelope)
                applied += 1
                rows.append({"consumer": self.name, "event_id": envelope.id,
                             "event_type": envelope.type, "processed_at": at})
            if run:
                await self.batch_handlers[run[0].type](s, run)
            if rows:
                await s.execute(insert(inbox), rows)
            await s.commit()
        return applied, repeated

    async def _failed(
        self, msg: Msg, envelope: Envelope | None, deliveries: int, exc: Exception
    ) -> None:
        delay = min(0.2 * 2**deliveries, 10.0)
        if deliveries < self.max_deliver:
            log.warning("event_failed", consumer=self.name, deliveries=deliveries, error=repr(exc))
            await self._answer(msg, "nak", delay)
            return
        try:
            await self._dead_letter(msg, envelope, deliveries, exc)
        except Exception as dl_exc:  # e.g. the database is down: keep the message coming
            log.error("dead_letter_failed", consumer=self.name, deliveries=deliveries,
                      error=repr(exc), dead_letter_error=repr(dl_exc))
            await self._answer(msg, "nak", delay)
            return
        await self._answer(msg, "term")

    async def _answer(self, msg: Msg, verb: str, delay: float | None = None) -> None:
        """Ack, nak or term. If the answer is lost, JetStream redelivers after ``ack_wait``."""
        try:
            if verb == "ack":
                await msg.ack()
            elif verb == "nak":
                await msg.nak(delay=delay)
            else:
                await msg.term()
        except Exception as exc:
            log.warning("event_answer_lost", consumer=self.name, answer=verb, error=repr(exc))

    async def _seen(self, s: AsyncSession, event_id: str) -> bool:
        inbox = self.plumbing.inbox
        found = await s.scalar(
            select(inbox.c.event_id).where(
                inbox.c.consumer == self.name, inbox.c.event_id == event_id
            )
        )
        return found is not None

    async def apply_one(self, envelope: Envelope) -> bool | None:
        """Apply one event in its own transaction (None: no handler; False: seen before)."""
        handler = self.handlers.get(envelope.type)
        return None if handler is None else await self._apply(envelope, handler)

    async def _apply(self, envelope: Envelope, handler: Handler) -> bool:
        """Apply and record in the inbox in one transaction. False: applied before."""
        try:
            async with self.db.session() as s:
                if await self._seen(s, envelope.id):
                    return False
                await handler(s, envelope)
                await s.execute(
                    insert(self.plumbing.inbox).values(
                        consumer=self.name,
                        event_id=envelope.id,
                        event_type=envelope.type,
                        processed_at=datetime.now(UTC),
                    )
                )
                await s.commit()
        except IntegrityError:
            # Another replica applied the same event at the same time (PostgreSQL reports the
            # conflict on the inbox key or on a row the handler writes, at insert or commit):
            # a duplicate once its inbox row is there; otherwise the handler's own conflict.
            async with self.db.reader() as s:
                if await self._seen(s, envelope.id):
                    return False
            raise
        return True

    async def _dead_letter(
        self, msg: Msg, envelope: Envelope | None, deliveries: int, exc: Exception
    ) -> None:
        event_id = envelope.id if envelope else f"stream-seq-{msg.metadata.sequence.stream}"
        error = f"{type(exc).__name__}: {exc}"[:2000]
        raw = msg.data.decode("utf-8", errors="replace")
        dl = Envelope(
            source=f"/seteli/{self.service}",
            type="fi.seteli.deadletter.v1",
            subject=event_id,
            data={
                "consumer": self.name,
                "event_id": event_id,
                "original_subject": msg.subject,
                "deliveries": deliveries,
                "error": error,
                "original": raw,
            },
        )
        dead = self.plumbing.dead_letter
        async with self.db.session() as s:
            recorded = await s.scalar(
                select(dead.c.seq).where(dead.c.consumer == self.name, dead.c.event_id == event_id)
            )
            if recorded is not None:  # written before, but the term was lost
                return
            await s.execute(
                insert(dead).values(
                    consumer=self.name,
                    event_id=event_id,
                    subject=msg.subject,
                    deliveries=deliveries,
                    error=error,
                    payload=raw,
                    created_at=datetime.now(UTC),
                )
            )
            await write_outbox(
                s, self.plumbing, f"{DEAD_LETTER_ROOT}.{self.service}.{self.name}", dl
            )
            await s.commit()
        metrics.DEAD_LETTERS.labels(self.service, self.name).inc()
        log.error("event_dead_lettered", consumer=self.name, event_id=event_id, error=error)
