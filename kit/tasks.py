"""Stopping background tasks within a bounded time.

A service stops its relay, consumers, jobs and broker link by cancelling their tasks. A task
that does not end after its cancellation (a client library that swallowed it, a close that waits
for an answer from a broker that is gone) must not hold the process's shutdown forever: it is
given ``timeout`` seconds, then left behind with a warning that names it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog

log = structlog.get_logger("kit.tasks")

STOP_SECONDS = 10.0


async def cancel_and_wait(task: asyncio.Task[object] | None, *,
                          timeout: float = STOP_SECONDS) -> None:
    """Cancel ``task`` and wait at most ``timeout`` seconds for it to end; its exception, if
    any, is not raised here (the task's own code logs what it must)."""
    if task is None or task.done():
        return
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.warning("task_did_not_stop", task=task.get_name(), timeout=timeout)
        return
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not report it as never retrieved


async def bounded(step: Awaitable[object], what: str, *, timeout: float = STOP_SECONDS) -> None:
    """Await a closing step (e.g. a connection's close) for at most ``timeout`` seconds; a
    failure or a timeout is logged, never raised: stopping goes on."""
    try:
        await asyncio.wait_for(step, timeout)
    except TimeoutError:
        log.warning("close_timed_out", what=what, timeout=timeout)
    except Exception as exc:
        log.info("close_failed", what=what, error=repr(exc))
