"""Periodic jobs that run once per period across every replica of a service.

Time is cut into periods of ``interval`` seconds (counted from the Unix epoch, so every replica
cuts it the same way). At the start of each period every replica wakes and tries to *claim* the
period: it inserts ``("job:<name>", <period>)`` into the service's idempotency-key table
(``INSERT … ON CONFLICT DO NOTHING``; the primary key lets one insert win). Only the replica
whose insert won runs the job.

On PostgreSQL the claim stays uncommitted while the job runs: a replica racing for the same
period waits on that row and, once the claim commits, finds it taken. If the claiming replica
dies mid-run its transaction is rolled back and a waiting replica claims the period and runs it,
so a killed instance loses no period. A job therefore has to be safe to run again (the
service's jobs act on what is due, e.g. expire what has passed its date). On SQLite (one
process) the claim is committed before the job runs (the one writer connection cannot be held).
A failed run releases the claim; the job runs again next period.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
import structlog

from kit import metrics
from kit.db import insert_ignoring_conflicts

if TYPE_CHECKING:
    from kit.runtime import Runtime

log = structlog.get_logger("kit.jobs")

INSTANCE = f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class Job:
    """A periodic task of a service (e.g. expiring accreditations): runs once per period of
    ``interval`` seconds across all replicas; an exception is logged and the job runs again
    next period."""

    name: str
    interval: float
    run: Callable[[Runtime], Awaitable[object]]


def period_of(now: float, interval: float) -> int:
    """The number of the period ``now`` (Unix seconds) falls in."""
    return int(now // interval)


def until_next_period(now: float, interval: float) -> float:
    """Seconds from ``now`` to the start of the next period."""
    return interval - (now % interval)


def claim_scope(job: str) -> str:
    return f"job:{job}"


async def run_period(rt: Runtime, job: Job, period: int, *, instance: str) -> bool:
    """Claim ``period`` of ``job`` and, if this instance won it, run the job. True when it ran."""
    keys = rt.plumbing.idempotency
    row = {"scope": claim_scope(job.name), "key": str(period), "request_hash": "job",
           "status_code": 200, "created_at": datetime.now(UTC),
           "body": orjson.dumps({"job": job.name, "period": period,
                                 "instance": instance}).decode()}
    if rt.db.sqlite:
        async with rt.db.session() as s:
            won = (await s.execute(insert_ignoring_conflicts(s, keys, [row]))).rowcount  # type: ignore[attr-defined]
            await s.commit()
        if not won:
            return False
        await _run(rt, job, period)
        return True
    async with rt.db.session() as s:
        won = (await s.execute(insert_ignoring_conflicts(s, keys, [row]))).rowcount  # type: ignore[attr-defined]
        if not won:
            await s.rollback()
            return False
        await _run(rt, job, period)  # raises: the claim is rolled back with the session
        await s.commit()
    return True


async def _run(rt: Runtime, job: Job, period: int) -> None:
    result = await job.run(rt)
    metrics.JOB_RUNS.labels(rt.settings.service_name, job.name).inc()
    log.info("job_ran", job=job.name, period=period, result=result)


async def schedule(rt: Runtime, job: Job, *, instance: str | None = None) -> None:
    """Run ``job`` once per period (claimed across replicas) until cancelled."""
    me = instance or f"{INSTANCE}-{uuid.uuid4().hex[:6]}"
    while True:
        await asyncio.sleep(until_next_period(time.time(), job.interval))
        period = period_of(time.time() + 1e-3, job.interval)
        try:
            await run_period(rt, job, period, instance=me)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job_failed", job=job.name, period=period)
