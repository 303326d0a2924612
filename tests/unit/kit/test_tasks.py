"""Stopping background tasks never hangs a service's shutdown."""

from __future__ import annotations

import asyncio
import time

from kit.tasks import bounded, cancel_and_wait


async def test_a_cancelled_task_is_awaited() -> None:
    task = asyncio.create_task(asyncio.sleep(60))
    await cancel_and_wait(task, timeout=5)
    assert task.cancelled()


async def test_a_task_that_swallows_its_cancellation_is_left_behind_in_time() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                continue  # what a misbehaving library might do

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    await cancel_and_wait(task, timeout=0.2)
    assert time.monotonic() - started < 5 and not task.done()
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.done()


async def test_a_close_that_never_answers_or_fails_does_not_stop_the_stopping() -> None:
    started = time.monotonic()
    await bounded(asyncio.sleep(60), "silent", timeout=0.2)

    async def failing() -> None:
        raise ConnectionError("gone")

    await bounded(failing(), "failing", timeout=1)
    assert time.monotonic() - started < 5
