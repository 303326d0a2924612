"""The outbox: events written in the transaction of the change, published after it commits.

- :func:`add_event` writes the CloudEvents envelope to the outbox table in the caller's
  transaction; an ``after_commit`` hook wakes the relay, so latency is not bound to polling;
- :class:`OutboxRelay` publishes committed rows in order with ``Nats-Msg-Id`` = event id and
  marks them sent only once JetStream has acknowledged them: a broker outage or a restart of
  the service delays events but never loses them (JetStream's duplicate window, then the
  consumers' inbox, make a repeat harmless). A backlog goes out as atomic batches of up to
  ``batch`` rows and ``batch_bytes`` of payload (one storage sync and one acknowledgement per
  batch: with ``sync_interval: always`` a sync per event bounds the relay to a few hundred
  events a second).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts.events import Envelope, EventPayload, uuid7
from kit import metrics
from kit.broker import NatsLink, ensure_streams
from kit.db import Database
from kit.tables import PlumbingTables
from kit.tasks import cancel_and_wait

log = structlog.get_logger("kit.outbox")


async def add_event(
    session: AsyncSession,
    plumbing: PlumbingTables,
    payload: EventPayload,
    *,
    resource: str | None = None,
) -> Envelope:
    """Write ``payload`` to the outbox in the session's transaction. Published after commit."""
    envelope = payload.envelope(resource=resource)
    await write_outbox(session, plumbing, payload.subject(), envelope)
    return envelope


async def add_events(
    session: AsyncSession,
    plumbing: PlumbingTables,
    payloads: list[tuple[EventPayload, str | None]],
) -> None:
    """Write many events (payload, resource) to the outbox in one statement (bulk work)."""
    if not payloads:
        return
    at = datetime.now(UTC)
    time = at.isoformat().replace("+00:00", "Z")
    rows = []
    for payload, resource in payloads:
        # The envelope written directly (the same JSON as Envelope.model_dump_json, without
        # validating our own payload a second time): thousands of events per request.
        event_id = str(uuid7())
        body = {"specversion": "1.0", "id": event_id, "source": f"/seteli/{payload.service}",
                "type": payload.event_type(), "time": time, "subject": resource,
                "datacontenttype": "application/json", "data": payload.model_dump(mode="json")}
        rows.append(dict(event_id=event_id, subject=payload.subject(),
                         payload=orjson.dumps(body).decode(), created_at=at))
    await session.execute(insert(plumbing.outbox), rows)
    session.sync_session.info["outbox_pending"] = True


async def write_outbox(
    session: AsyncSession, plumbing: PlumbingTables, subject: str, envelope: Envelope
) -> None:
    await session.execute(
        insert(plumbing.outbox).values(
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


ATOMIC_BATCH_MAX = 1000  # the server's limit of messages in one atomic batch
BATCH_BYTES = 4 * 1024 * 1024  # payload per batch: a few large events (chunks) go per round


class BatchRefused(Exception):
    """JetStream refused an atomic batch as a whole (nothing of it was stored)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.disabled = code == ATOMIC_DISABLED or "disabled" in description


ATOMIC_DISABLED = 10174  # JSAtomicPublishDisabledErr: the stream does not allow batches


async def _publish_batch(nc: NATS, rows: Sequence[Any]) -> None:
    """One atomic batch (JetStream 2.12+, ``allow_atomic`` streams): every event but the last
    is sent without waiting, the last commits the batch and carries the one acknowledgement.
    Each event keeps its ``Nats-Msg-Id``; all of them must go to one stream."""
    batch = str(uuid7())
    last = len(rows)
    for n, r in enumerate(rows[:-1], start=1):
        await nc.publish(r.subject, r.payload.encode(), headers={
            "Nats-Msg-Id": r.event_id, "Nats-Batch-Id": batch, "Nats-Batch-Sequence": str(n)})
    r = rows[-1]
    reply = await nc.request(r.subject, r.payload.encode(), timeout=5, headers={
        "Nats-Msg-Id": r.event_id, "Nats-Batch-Id": batch, "Nats-Batch-Sequence": str(last),
        "Nats-Batch-Commit": "1"})
    ack = orjson.loads(reply.data)
    if "error" in ack:
        raise BatchRefused(int(ack["error"].get("err_code", 0)),
                           str(ack["error"].get("description", "")))
    if ack.get("batch") != batch or ack.get("count") != last:
        # A server without atomic batches stores each event on its own and acknowledges only
        # the last: not proof that the others are in; single publishes (deduplicated) tell.
        raise BatchRefused(0, "no batch acknowledgement: atomic batches disabled")


class OutboxRelay:
    """Publishes committed outbox rows in order and marks them sent once JetStream has them."""

    def __init__(
        self,
        db: Database,
        plumbing: PlumbingTables,
        link: NatsLink,
        *,
        service: str,
        batch: int = 200,
        batch_bytes: int = BATCH_BYTES,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.plumbing = plumbing
        self.link = link
        self.service = service
        self.batch = batch
        self.batch_bytes = batch_bytes
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._atomic = True  # until the server says the stream takes no atomic batches
        self._cut = False  # the last batch read was cut at batch_bytes: more rows wait
        db.set_session_info("outbox_wakeup", self.notify)

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def backlog(self) -> int:
        async with self.db.reader() as s:
            n = await s.scalar(
                select(func.count()).select_from(self.plumbing.outbox).where(
                    self.plumbing.outbox.c.published_at.is_(None)
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

    async def _send(self, js: JetStreamContext,
                    rows: Sequence[Any]) -> list[BaseException | None]:
        """Publish ``rows`` in order: for each, ``None`` once JetStream has it, or the error.

        Several rows go as one atomic batch (the server stores them with one write and answers
        once, instead of a sync and an acknowledgement per event). A batch the server refuses
        as a whole (it holds an event JetStream already has, after a relay died between
        publishing and marking; or the stream does not take batches) is sent again event by
        event, pipelined, where ``Nats-Msg-Id`` drops the repeats one by one."""
        nc = self.link.nc
        if self._atomic and nc is not None and 1 < len(rows) <= ATOMIC_BATCH_MAX:
            try:
                await _publish_batch(nc, rows)
                return [None] * len(rows)
            except BatchRefused as exc:
                if exc.disabled:
                    self._atomic = False
                log.info("outbox_batch_refused", reason=str(exc), events=len(rows))
            except Exception as exc:  # e.g. no answer in time: let single publishes decide
                log.info("outbox_batch_failed", error=repr(exc), events=len(rows))
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
        return [r if isinstance(r, BaseException) else None for r in results]

    async def publish_pending(self, js: JetStreamContext) -> tuple[int, bool]:
        """Publish one batch. Returns (published, batch_was_full).

        Several replicas of a service share one outbox: on PostgreSQL a batch is read,
        published and marked under a transaction-scoped advisory lock of the service's outbox,
        so one relay at a time publishes (in sequence order) and a row is never published by
        two relays at once; the lock goes with the transaction, also when a replica dies.
        SQLite is one process: no lock needed."""
        if self.db.sqlite:
            async with self.db.reader() as s:
                rows = await self._unpublished(s)
            if not rows:
                return 0, False
            results = await self._send(js, rows)
            async with self.db.session() as s:
                return await self._mark(s, rows, results)
        async with self.db.session() as s:
            await s.execute(select(func.pg_advisory_xact_lock(func.hashtext(self._lock_name))))
            rows = await self._unpublished(s)
            if not rows:
                await s.rollback()
                return 0, False
            results = await self._send(js, rows)
            return await self._mark(s, rows, results)

    @property
    def _lock_name(self) -> str:
        return f"seteli.outbox:{self.service}:{self.db.schema or ''}"

    async def _unpublished(self, s: AsyncSession) -> Sequence[Any]:
        """The next rows in order: up to ``batch`` of them and ``batch_bytes`` of payload
        (at least one row, whatever its size). The sizes are read first and only the payloads
        that go are read: a backlog of large events (a run's proposal chunks, some 250 kB
        each) would otherwise be read whole for every batch of a few of them."""
        outbox = self.plumbing.outbox
        sizes = (
            await s.execute(
                select(outbox.c.seq, func.length(outbox.c.payload))
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self.batch)
            )
        ).all()
        if not sizes:
            return []
        size, last = 0, len(sizes)
        for n, (_, length) in enumerate(sizes):
            size += int(length or 0)
            if n and size > self.batch_bytes:
                last = n
                break
        self._cut = last < len(sizes)
        return (
            await s.execute(
                select(outbox.c.seq, outbox.c.event_id, outbox.c.subject, outbox.c.payload)
                .where(outbox.c.published_at.is_(None),
                       outbox.c.seq.between(sizes[0][0], sizes[last - 1][0]))
                .order_by(outbox.c.seq)
                .limit(last)
            )
        ).all()

    async def _mark(self, s: AsyncSession, rows: Sequence[Any],
                    results: list[BaseException | None]) -> tuple[int, bool]:
        """Mark the rows JetStream acknowledged as sent, in ``s``, and commit."""
        outbox = self.plumbing.outbox
        done = [r.seq for r, res in zip(rows, results, strict=True) if res is None]
        if done:
            await s.execute(
                update(outbox).where(outbox.c.seq.in_(done)).values(published_at=datetime.now(UTC))
            )
        await s.commit()
        if done:
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(done))
        errors = [res for res in results if res is not None]
        if errors:
            raise errors[0]
        return len(done), len(rows) == self.batch or self._cut
