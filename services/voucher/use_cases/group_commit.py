"""Group commit: concurrent requests that would queue on the same rows are written together.

Requests are queued per *lane* (e.g. one admin issuing from one budget). The first request of
an idle lane starts a drain task; while that task writes a batch in one transaction, the
requests that arrive meanwhile wait in the lane and go into the next batch (up to
``max_batch``), so no request waits for a timer. Each request is still answered on its own:
the batch writer decides, for each request of the batch, its answer or its refusal, or that it
runs alone afterwards (its ordinary path: one transaction of its own). When a batch fails as a
whole, nothing of it was committed and every request of it runs alone, one after the other, so
a request that the batch could not take never fails the others.

Lanes live in this process only; several processes (replicas) each batch their own requests and
meet at the database's row locks as before.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog

log = structlog.get_logger("voucher.group_commit")

R = TypeVar("R")


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Ticket(Generic[R]):
    """One waiting request. ``alone`` runs it on its own (its ordinary path)."""

    alone: Callable[[], Awaitable[R]]
    data: Any = None  # what the batch writer needs to know of the request
    future: asyncio.Future[R] = field(default_factory=_future)

    def answer(self, result: R | BaseException) -> None:
        if self.future.done():  # the caller went away
            return
        if isinstance(result, BaseException):
            self.future.set_exception(result)
        else:
            self.future.set_result(result)


@dataclass
class Decided(Generic[R]):
    """What a batch writer returns once its transaction has committed: an answer (or refusal)
    for some tickets, and the tickets that run alone afterwards."""

    answers: list[tuple[Ticket[R], R | BaseException]] = field(default_factory=list)
    alone: list[Ticket[R]] = field(default_factory=list)


Writer = Callable[[list[Ticket[R]]], Awaitable[Decided[R]]]


@dataclass
class _Lane(Generic[R]):
    waiting: list[Ticket[R]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class Lanes(Generic[R]):
    """The lanes of one kind of request, written by ``writer`` in batches of ``max_batch``."""

    def __init__(self, writer: Writer[R]) -> None:
        self.writer = writer
        self._lanes: dict[Hashable, _Lane[R]] = {}

    async def submit(self, lane_key: Hashable, ticket: Ticket[R], max_batch: int) -> R:
        lane = self._lanes.setdefault(lane_key, _Lane())
        lane.waiting.append(ticket)
        if lane.task is None:
            # A context of its own: what it logs belongs to no one request (request ids).
            lane.task = asyncio.create_task(self._drain(lane_key, lane, max_batch),
                                            name="group-commit", context=contextvars.Context())
        return await ticket.future

    async def _drain(self, lane_key: Hashable, lane: _Lane[R], max_batch: int) -> None:
        try:
            while lane.waiting:
                batch, lane.waiting = lane.waiting[:max_batch], lane.waiting[max_batch:]
                await self._write(batch)
        finally:
            lane.task = None
            if not lane.waiting and self._lanes.get(lane_key) is lane:
                del self._lanes[lane_key]

    async def _write(self, batch: list[Ticket[R]]) -> None:
        alone = batch
        if len(batch) > 1:
            try:
                decided = await self.writer(batch)
            except Exception as exc:  # nothing committed: each request on its own
                log.warning("group_commit_failed", error=type(exc).__name__, size=len(batch))
            else:
                for ticket, result in decided.answers:
                    ticket.answer(result)
                alone = decided.alone
        for ticket in alone:
            if ticket.future.done():
                continue
            try:
                ticket.answer(await ticket.alone())
            except Exception as exc:
                ticket.answer(exc)
