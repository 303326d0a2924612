"""Housekeeping: the plumbing tables do not grow for ever.

Pruned by the ``housekeeping`` job every service runs (``kit.app``), once per period across
replicas (``kit.jobs``):

- outbox rows **published** more than ``retention_hours`` ago (an unpublished row is never
  pruned, however old);
- inbox rows older than ``retention_hours``: a redelivery comes within ``max_deliver ×
  ack_wait`` and JetStream drops a repeated publish within its duplicate window, so once both
  have passed an inbox row guards nothing (the settings refuse a shorter retention);
- idempotency keys (and the job claims kept beside them) older than
  ``idempotency_retention_hours``;
- dead letters older than ``dead_letter_retention_hours``.

Each pruned row is counted in ``seteli_housekeeping_pruned_total{service, table}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Table, delete

from kit import metrics
from kit.db import Database
from kit.settings import ServiceSettings
from kit.tables import PlumbingTables


@dataclass(frozen=True)
class Retention:
    events: timedelta  # published outbox rows and inbox rows
    idempotency: timedelta
    dead_letters: timedelta

    @classmethod
    def of(cls, settings: ServiceSettings) -> Retention:
        return cls(events=timedelta(hours=settings.retention_hours),
                   idempotency=timedelta(hours=settings.idempotency_retention_hours),
                   dead_letters=timedelta(hours=settings.dead_letter_retention_hours))


async def prune(db: Database, plumbing: PlumbingTables, retention: Retention, *,
                service: str, now: datetime | None = None) -> dict[str, int]:
    """Delete what has outlived its retention, one transaction per table. Returns the number
    of rows pruned per table."""
    now = now or datetime.now(UTC)
    p = plumbing
    plan: list[tuple[Table, Column[datetime], timedelta]] = [
        (p.outbox, p.outbox.c.published_at, retention.events),
        (p.inbox, p.inbox.c.processed_at, retention.events),
        (p.idempotency, p.idempotency.c.created_at, retention.idempotency),
        (p.dead_letter, p.dead_letter.c.created_at, retention.dead_letters),
    ]
    pruned: dict[str, int] = {}
    for table, at, keep in plan:
        # ``at < cutoff`` is never true of NULL: an unpublished outbox row stays.
        async with db.session() as s:
            result = await s.execute(delete(table).where(at < now - keep))
            await s.commit()
        n = int(result.rowcount or 0)  # type: ignore[attr-defined]
        pruned[table.name] = n
        if n:
            metrics.HOUSEKEEPING_PRUNED.labels(service, table.name).inc(n)
    return pruned
