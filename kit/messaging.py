"""NATS JetStream plumbing: connection, stream provisioning, the outbox relay and the
inbox-guarded durable pull consumer.

Guarantees (DESIGN.md, invariant 6):
- an event is written to the outbox in the same transaction as the state change
  (:func:`add_event`) and published only after that commit, with ``Nats-Msg-Id`` = event id;
- the relay retries until JetStream acknowledges, so a broker outage or a restart of the
  service delays events but never loses them;
- a consumer applies an event and records its id in the inbox in one transaction, then acks:
  a redelivered event is a no-op; after ``max_deliver`` failed deliveries the event is written
  to the dead-letter table and, through the outbox, to ``seteli.deadletter.<consumer>``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import nats
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts.events import DEAD_LETTER_ROOT, STREAMS, Envelope, EventPayload
from kit import metrics
from kit.db import Database
from kit.tables import PlumbingTables

log = structlog.get_logger("kit.messaging")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

DUPLICATE_WINDOW_SECONDS = 120.0


# ------------------------------------------------------------------ outbox writing


async def add_event(
    session: AsyncSession,
    tables: PlumbingTables,
    payload: EventPayload,
    *,
    resource: str | None = None,
) -> Envelope:
    """Write ``payload`` to the outbox in the session's transaction. Published after commit."""
    envelope = payload.envelope(resource=resource)
    await _insert_outbox(session, tables, payload.subject(), envelope)
    return envelope


async def _insert_outbox(
    session: AsyncSession, tables: PlumbingTables, subject: str, envelope: Envelope
) -> None:
    await session.execute(
        insert(tables.outbox).values(
            event_id=envelope.id,
            subject=subject,
            payload=envelope.model_dump_json(),
            created_at=datetime.now(UTC),
        )
    )
    session.sync_session.info["outbox_pending"] = True


@sa_event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    if session.info.pop("outbox_pending", False):
        wake = session.info.get("outbox_wakeup")
        if wake is not None:
            wake()


# ------------------------------------------------------------------ connection


class NatsLink:
    """One NATS connection per process. Connects in the background and keeps reconnecting,
    so a service starts (and serves reads) while the broker is down."""

    def __init__(self, url: str, name: str, *, replicas: int = 1) -> None:
        self.url = url
        self.name = name
        self.replicas = replicas
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_loop(), name=f"nats-connect-{self.name}")

    async def wait(self) -> JetStreamContext:
        await self._ready.wait()
        assert self.js is not None
        return self.js

    async def _connect_loop(self) -> None:
        delay = 0.2
        while True:
            try:
                nc = await nats.connect(
                    self.url,
                    name=self.name,
                    connect_timeout=2,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                    ping_interval=5,
                    max_outstanding_pings=2,
                    error_cb=self._on_error,
                )
                self.nc = nc
                self.js = nc.jetstream(timeout=5)
                await ensure_streams(self.js, replicas=self.replicas)
                self._ready.set()
                log.info("nats_connected", url=self.url)
                return
            except Exception as exc:  # broker not there yet: keep trying
                log.warning("nats_connect_failed", url=self.url, error=repr(exc))
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                    self.nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats_error", error=repr(exc))

    async def ping(self, timeout: int = 1) -> None:
        if not self._ready.is_set() or self.nc is None or not self.nc.is_connected:
            raise ConnectionError("not connected to NATS (or streams not provisioned yet)")
        await self.nc.flush(timeout=timeout)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()


async def ensure_streams(js: JetStreamContext, *, replicas: int = 1) -> None:
    """Create (or update) the streams: one per producing service and the dead-letter stream.
    File storage; every process provisions them the same way, so start order does not matter."""
    for name, subjects in STREAMS.items():
        config = StreamConfig(
            name=name,
            subjects=[subjects],
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )
        try:
            await js.stream_info(name)
        except NotFoundError:
            try:
                await js.add_stream(config)
                continue
            except Exception:  # created by another process in between
                pass
        await js.update_stream(config)


# ------------------------------------------------------------------ relay


class OutboxRelay:
    """Publishes committed outbox rows in order and marks them sent once JetStream has them."""

    def __init__(
        self,
        db: Database,
        tables: PlumbingTables,
        link: NatsLink,
        *,
        service: str,
        batch: int = 200,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.tables = tables
        self.link = link
        self.service = service
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        db.set_session_info("outbox_wakeup", self.notify)

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def backlog(self) -> int:
        async with self.db.reader() as s:
            n = await s.scalar(
                select(func.count()).select_from(self.tables.outbox).where(
                    self.tables.outbox.c.published_at.is_(None)
                )
            )
        return int(n or 0)

    async def _run(self) -> None:
        js = await self.link.wait()
        failures = 0
        while True:
            try:
                _sent, full = await self.publish_pending(js)
                failures = 0
                if full:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("outbox_publish_failed", error=repr(exc), failures=failures)
                await asyncio.sleep(min(0.1 * 2**failures, 2.0))
                await self._reprovision(js)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _reprovision(self, js: JetStreamContext) -> None:
        """A broker that came back without its store has no streams, and publishing to a
        subject no stream takes never succeeds: provision them again (only while connected,
        so an outage does not stall the retry loop)."""
        if not self.link.connected:
            return
        try:
            await asyncio.wait_for(ensure_streams(js, replicas=self.link.replicas), 10)
        except Exception as exc:
            log.warning("stream_provisioning_failed", error=repr(exc))

    async def publish_pending(self, js: JetStreamContext) -> tuple[int, bool]:
        """Publish one batch. Returns (published, batch_was_full)."""
        t = self.tables.outbox
        async with self.db.reader() as s:
            rows = (
                await s.execute(
                    select(t.c.seq, t.c.event_id, t.c.subject, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.seq)
                    .limit(self.batch)
                )
            ).all()
        if not rows:
            return 0, False
        # Pipelined: all publishes go out on the one connection in order; acks come back async.
        results = await asyncio.gather(
            *(
                js.publish(
                    r.subject, r.payload.encode(), headers={"Nats-Msg-Id": r.event_id}, timeout=5
                )
                for r in rows
            ),
            return_exceptions=True,
        )
        done = [
            r.seq
            for r, res in zip(rows, results, strict=True)
            if not isinstance(res, BaseException)
        ]
        if done:
            async with self.db.session() as s:
                await s.execute(
                    update(t).where(t.c.seq.in_(done)).values(published_at=datetime.now(UTC))
                )
                await s.commit()
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(done))
        errors = [res for res in results if isinstance(res, BaseException)]
        if errors:
            raise errors[0]
        return len(done), len(rows) == self.batch


# ------------------------------------------------------------------ consumer


class Consumer:
    """A durable pull consumer on another service's stream, guarded by the inbox table."""

    def __init__(
        self,
        *,
        name: str,
        stream: str,
        handlers: Mapping[str, Handler],
        db: Database,
        tables: PlumbingTables,
        link: NatsLink,
        service: str,
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        batch: int = 100,
    ) -> None:
        self.name = name
        self.stream = stream
        self.handlers = handlers
        self.db = db
        self.tables = tables
        self.link = link
        self.service = service
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

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
        inbox = self.tables.inbox
        found = await s.scalar(
            select(inbox.c.event_id).where(
                inbox.c.consumer == self.name, inbox.c.event_id == event_id
            )
        )
        return found is not None

    async def _apply(self, envelope: Envelope, handler: Handler) -> bool:
        """Apply and record in the inbox in one transaction. False: applied before."""
        try:
            async with self.db.session() as s:
                if await self._seen(s, envelope.id):
                    return False
                await handler(s, envelope)
                await s.execute(
                    insert(self.tables.inbox).values(
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
        dead = self.tables.dead_letter
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
            await _insert_outbox(
                s, self.tables, f"{DEAD_LETTER_ROOT}.{self.service}.{self.name}", dl
            )
            await s.commit()
        metrics.DEAD_LETTERS.labels(self.service, self.name).inc()
        log.error("event_dead_lettered", consumer=self.name, event_id=event_id, error=error)


__all__ = ["Consumer", "Handler", "NatsLink", "OutboxRelay", "add_event", "ensure_streams"]
