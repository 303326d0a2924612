"""Default assignments proposed by the matching service, applied as a choice by
``default_assignment``: only while the voucher has no provider and its choice deadline has
passed (an override by a region admin may also replace an earlier default assignment, never
the holder's own choice). The holder can still change it before the start.

A run's proposals come in chunks (``assignment.proposals``, up to 500 each); an override
alone (``assignment.proposed``). Both are applied the same way, many at once: the vouchers,
offerings and accreditations read in a few queries, the places taken per offering under one
lock, the choices and ``voucher.provider_chosen`` events written in bulk. Each proposal is
applied or skipped on its own: one that no longer fits (the voucher was chosen meanwhile, its
deadline has not passed, the offering is full or no longer choosable) is skipped with its
reason (logged with the chunk) and never stops the others. Applying is idempotent: the inbox
skips a repeated event, and a proposal applied before no longer fits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.matching import AssignmentProposals, AssignmentProposed
from contracts.voucher import Chooser, VoucherProviderChosen
from kit.errors import Problem
from kit.outbox import add_events
from services.voucher import repository
from services.voucher.domain.lifecycle import Action, VoucherState, transition
from services.voucher.models import Voucher, plumbing
from services.voucher.use_cases.choices import choosable, set_choice
from services.voucher.use_cases.common import today, voucher_event

log = structlog.get_logger("voucher.assignments")


@dataclass(frozen=True)
class Wanted:
    """What applying one proposal needs to know."""

    voucher_id: str
    region: str
    offering_id: str
    override: bool


def applies(v: Voucher, w: Wanted) -> bool:
    if v.state == VoucherState.issued:
        return today() > v.choice_deadline
    return (w.override and v.state == VoucherState.chosen
            and v.chosen_by == Chooser.default_assignment
            and v.offering_id != w.offering_id)


def _one(envelope: Envelope) -> Wanted:
    e = AssignmentProposed.model_validate(envelope.data)
    return Wanted(e.voucher_id, e.region, e.offering_id, e.override)


def _chunk(envelope: Envelope) -> list[Wanted]:
    e = AssignmentProposals.model_validate(envelope.data)
    return [Wanted(p.voucher_id, e.region, p.offering_id, p.override) for p in e.proposals]


async def apply_proposal(s: AsyncSession, envelope: Envelope) -> None:
    await apply_wanted(s, [_one(envelope)])


async def apply_proposals(s: AsyncSession, envelopes: list[Envelope]) -> None:
    await apply_wanted(s, [_one(e) for e in envelopes])


async def apply_chunk(s: AsyncSession, envelope: Envelope) -> None:
    await apply_wanted(s, _chunk(envelope))


async def apply_chunks(s: AsyncSession, envelopes: list[Envelope]) -> None:
    await apply_wanted(s, [w for e in envelopes for w in _chunk(e)])


def _skip_reason(v: Voucher | None, w: Wanted) -> str | None:
    if v is None:
        return "no such voucher"
    if v.region != w.region:
        return "the voucher is in another region"
    if applies(v, w):
        return None
    if v.state == VoucherState.issued:
        return "the choice deadline has not passed"
    return "the voucher's provider was chosen already"


async def apply_wanted(s: AsyncSession, wanted: list[Wanted]) -> dict[str, int]:
    """Apply ``wanted`` in the caller's transaction; the latest proposal of a voucher wins.
    Returns the count of applied and of skipped by reason (also logged)."""
    latest = {w.voucher_id: w for w in wanted}
    vouchers = await repository.vouchers_by_id(s, sorted(latest), lock=True)
    skipped: list[tuple[str, str]] = []
    todo = []
    for w in latest.values():
        v = vouchers.get(w.voucher_id)
        why = _skip_reason(v, w)
        if why is None and v is not None:
            todo.append((v, w))
        else:
            skipped.append((w.voucher_id, why or ""))
    held = await repository.load_offerings(s, sorted({w.offering_id for _, w in todo}))
    fitting = []
    for v, w in todo:
        try:
            fitting.append((v, w, await choosable(s, v, w.offering_id)))
        except Problem as exc:  # not choosable (409), or no such offering here (422)
            skipped.append((v.id, str(exc)))
    asked: dict[str, int] = Counter(o.offering_id for _, _, o in fitting)
    given = await repository.take_places(s, asked)
    events = []
    for v, w, o in fitting:
        if given.get(o.offering_id, 0) <= 0:
            skipped.append((v.id, "no open place"))
            continue
        given[o.offering_id] -= 1
        previous = (v.provider_id, v.offering_id)
        if previous[1]:
            await repository.free_place(s, previous[1])
        v.state = transition(VoucherState(v.state), Action.choose).value
        await set_choice(s, v, o, Chooser.default_assignment, None,
                         "override" if w.override else "default_assignment")
        events.append((voucher_event(VoucherProviderChosen, v,
                                     chosen_by=Chooser.default_assignment,
                                     previous_provider_id=previous[0],
                                     previous_offering_id=previous[1]), v.id))
    await add_events(s, plumbing, events)  # type: ignore[arg-type]
    del held
    outcome = {"applied": len(events), **Counter(reason for _, reason in skipped)}
    log.info("assignment_proposals_applied", applied=len(events),
             skipped=[{"voucher_id": i, "reason": r} for i, r in skipped])
    return outcome
