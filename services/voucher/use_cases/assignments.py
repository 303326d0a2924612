"""Default assignments proposed by the matching service (``assignment.proposed``), applied as
a choice by ``default_assignment``: only while the voucher has no provider and its choice
deadline has passed (an override by a region admin may also replace an earlier default
assignment, never the holder's own choice). The holder can still change it before the start.
Applying is idempotent: the inbox skips a repeated event, and a proposal that no longer fits
(the voucher was chosen meanwhile, the offering is full or no longer choosable) changes
nothing."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.matching import AssignmentProposed
from contracts.voucher import Chooser, VoucherProviderChosen
from kit.errors import Conflict
from kit.outbox import add_events
from services.voucher import repository
from services.voucher.domain.lifecycle import Action, VoucherState, transition
from services.voucher.models import Voucher, plumbing
from services.voucher.use_cases.choices import choosable, set_choice
from services.voucher.use_cases.common import emit, today, voucher_event

log = structlog.get_logger("voucher.assignments")


def applies(v: Voucher, event: AssignmentProposed) -> bool:
    if v.state == VoucherState.issued:
        return today() > v.choice_deadline
    return (event.override and v.state == VoucherState.chosen
            and v.chosen_by == Chooser.default_assignment
            and v.offering_id != event.offering_id)


async def apply_proposal(s: AsyncSession, envelope: Envelope) -> None:
    event = AssignmentProposed.model_validate(envelope.data)
    v = await repository.voucher(s, event.voucher_id, lock=True)
    if v is None or v.region != event.region or not applies(v, event):
        return
    try:
        o = await choosable(s, v, event.offering_id)
    except Conflict as exc:
        log.info("assignment_not_applied", voucher_id=v.id, reason=str(exc))
        return
    # The new place first: if it is gone, nothing has changed.
    if not await repository.take_place(s, o.offering_id):
        log.info("assignment_not_applied", voucher_id=v.id, reason="no open place")
        return
    previous = (v.provider_id, v.offering_id)
    if previous[1]:
        await repository.free_place(s, previous[1])
    v.state = transition(VoucherState(v.state), Action.choose).value
    await set_choice(s, v, o, Chooser.default_assignment, None,
                     "override" if event.override else "default_assignment")
    await emit(s, VoucherProviderChosen, v, chosen_by=Chooser.default_assignment,
               previous_provider_id=previous[0], previous_offering_id=previous[1])


async def apply_proposals(s: AsyncSession, envelopes: list[Envelope]) -> None:
    """Many proposals at once, with the same rules as :func:`apply_proposal`: the vouchers,
    offerings and accreditations read in a few queries, the places taken per offering, the
    choices and events written in bulk. The latest proposal of a voucher in the batch wins."""
    latest = {e.voucher_id: e for e in (AssignmentProposed.model_validate(x.data)
                                        for x in envelopes)}
    vouchers = await repository.vouchers_by_id(s, sorted(latest), lock=True)
    todo = [(v, latest[v.id]) for v in vouchers.values()
            if v.region == latest[v.id].region and applies(v, latest[v.id])]
    held = await repository.load_offerings(s, sorted({e.offering_id for _, e in todo}))
    fitting = []
    for v, e in todo:
        try:
            fitting.append((v, e, await choosable(s, v, e.offering_id)))
        except Conflict as exc:
            log.info("assignment_not_applied", voucher_id=v.id, reason=str(exc))
    wanted: dict[str, int] = {}
    for _, _, o in fitting:
        wanted[o.offering_id] = wanted.get(o.offering_id, 0) + 1
    given = await repository.take_places(s, wanted)
    events = []
    for v, e, o in fitting:
        if given.get(o.offering_id, 0) <= 0:
            log.info("assignment_not_applied", voucher_id=v.id, reason="no open place")
            continue
        given[o.offering_id] -= 1
        previous = (v.provider_id, v.offering_id)
        if previous[1]:
            await repository.free_place(s, previous[1])
        v.state = transition(VoucherState(v.state), Action.choose).value
        await set_choice(s, v, o, Chooser.default_assignment, None,
                         "override" if e.override else "default_assignment")
        events.append((voucher_event(VoucherProviderChosen, v,
                                     chosen_by=Chooser.default_assignment,
                                     previous_provider_id=previous[0],
                                     previous_offering_id=previous[1]), v.id))
    await add_events(s, plumbing, events)  # type: ignore[arg-type]
    del held
