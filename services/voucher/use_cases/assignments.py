"""Default assignments proposed by the matching service, applied as a choice by
``default_assignment``: only while the voucher has no provider and its choice deadline has
passed (an override by a region admin may also replace an earlier default assignment, never
the holder's own choice). The holder can still change it before the start.

A run's proposals come in chunks (``assignment.proposals``, up to 500 each); an override
alone (``assignment.proposed``). Both are applied the same way, set-based: the vouchers,
offerings and accreditations read in a few queries, the rules decided in pure code
(``domain/choosing.py``), the places taken per offering under one lock, then one
executemany UPDATE of the vouchers, one UPDATE closing their previous choices, one INSERT of
the new choice rows, and one ``voucher.vouchers_assigned`` event per 500 applied vouchers of a
region (instead of a ``voucher.provider_chosen`` each). Each proposal is applied or skipped
on its own: one that no longer fits (the voucher was chosen meanwhile, its deadline has not
passed, the offering is full or no longer choosable) is skipped with its reason (logged with
the chunk) and never stops the others. Applying is idempotent: the inbox skips a repeated
event, and a proposal applied before no longer fits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import BaseModel, Field
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.matching import PROPOSALS_PER_EVENT, AssignmentProposed
from contracts.voucher import ASSIGNED_PER_EVENT, Chooser, VouchersAssigned
from kit.outbox import add_events
from services.voucher import repository
from services.voucher.domain.choosing import assignment_skipped, not_choosable
from services.voucher.domain.lifecycle import Action, VoucherState, transition
from services.voucher.domain.money import co_payment_cents
from services.voucher.models import OfferingView, plumbing
from services.voucher.use_cases.common import now, today

log = structlog.get_logger("voucher.assignments")


@dataclass(frozen=True)
class Wanted:
    """What applying one proposal needs to know."""

    voucher_id: str
    region: str
    offering_id: str
    override: bool


def _one(envelope: Envelope) -> Wanted:
    e = AssignmentProposed.model_validate(envelope.data)
    return Wanted(e.voucher_id, e.region, e.offering_id, e.override)


class _Proposal(BaseModel):
    voucher_id: str
    offering_id: str
    override: bool = False


class _Proposals(BaseModel):
    """What applying reads of an ``assignment.proposals`` event (AssignmentProposals): the
    scores, factors and explanations in it are for people, read in matching's API."""

    region: str
    proposals: list[_Proposal] = Field(max_length=PROPOSALS_PER_EVENT)


def _chunk(envelope: Envelope) -> list[Wanted]:
    e = _Proposals.model_validate(envelope.data)
    return [Wanted(p.voucher_id, e.region, p.offering_id, p.override) for p in e.proposals]


async def apply_proposal(s: AsyncSession, envelope: Envelope) -> None:
    await apply_wanted(s, [_one(envelope)])


async def apply_proposals(s: AsyncSession, envelopes: list[Envelope]) -> None:
    await apply_wanted(s, [_one(e) for e in envelopes])


async def apply_chunk(s: AsyncSession, envelope: Envelope) -> None:
    await apply_wanted(s, _chunk(envelope))


async def apply_chunks(s: AsyncSession, envelopes: list[Envelope]) -> None:
    await apply_wanted(s, [w for e in envelopes for w in _chunk(e)])


async def apply_wanted(s: AsyncSession, wanted: list[Wanted]) -> dict[str, int]:
    """Apply ``wanted`` in the caller's transaction; the latest proposal of a voucher wins.
    Returns the count of applied and of skipped by reason (also logged)."""
    latest = {w.voucher_id: w for w in wanted}
    day = today()
    vouchers = await repository.choice_rows(s, sorted(latest))
    skipped: list[tuple[str, str]] = []
    todo = []
    for w in latest.values():
        v = vouchers.get(w.voucher_id)
        why = assignment_skipped(v, w.region, w.offering_id, w.override, day)
        if why is None and v is not None:
            todo.append((v, w))
        else:
            skipped.append((w.voucher_id, why or ""))
    offerings, accreditations = await repository.choice_rules(
        s, sorted({w.offering_id for _, w in todo}))
    fitting = []
    for v, w in todo:
        o = offerings.get(w.offering_id)
        why = ("offering_id: no such offering" if o is None else not_choosable(
            o, accreditations.get((o.provider_id, v.region)), v.region, v.service_type, day))
        if why is None and o is not None:
            fitting.append((v, w, o))
        else:
            skipped.append((v.id, why or ""))
    given = await repository.take_places(s, Counter(o.offering_id for _, _, o in fitting))
    applied = []
    for v, w, o in fitting:
        if given.get(o.offering_id, 0) <= 0:
            skipped.append((v.id, "no open place"))
        else:
            given[o.offering_id] -= 1
            applied.append((v, w, o))
    await _record(s, applied)
    outcome = {"applied": len(applied), **Counter(reason for _, reason in skipped)}
    log.info("assignment_proposals_applied", applied=len(applied),
             skipped=[{"voucher_id": i, "reason": r} for i, r in skipped])
    return outcome


async def _record(s: AsyncSession, applied: list[tuple[Row[Any], Wanted, OfferingView]]
                  ) -> None:
    """The applied choices written set-based, as ``choices.set_choice`` writes one: the
    previous choice closed (its place given back), a new choice row, the voucher ``chosen``
    with the version grown by one; and their events."""
    if not applied:
        return
    at = now()
    await repository.free_places(s, Counter(v.offering_id for v, _, _ in applied
                                            if v.offering_id))
    for reason in ("default_assignment", "override"):
        await repository.end_choices(s, [v.id for v, w, _ in applied if v.offering_id
                                         and ("override" if w.override else
                                              "default_assignment") == reason], at, reason)
    await repository.add_choices(s, [
        dict(voucher_id=v.id, offering_id=o.offering_id, provider_id=o.provider_id,
             chosen_by=Chooser.default_assignment.value, actor="system", chosen_at=at,
             ended_at=None, end_reason=None) for v, _, o in applied])
    await repository.set_chosen(s, [
        dict(b_id=v.id, b_state=transition(VoucherState(v.state), Action.choose).value,
             b_provider_id=o.provider_id, b_offering_id=o.offering_id,
             b_chosen_by=Chooser.default_assignment.value,
             b_co_payment_cents=co_payment_cents(o.unit_price_cents, v.value_cents),
             b_version=v.version + 1) for v, _, o in applied])
    by_region: dict[str, list[dict[str, Any]]] = {}
    for v, _, o in applied:  # plain dicts, validated once per event (not once per voucher)
        by_region.setdefault(v.region, []).append({
            "voucher_id": v.id, "version": v.version + 1, "service_type": v.service_type,
            "provider_id": o.provider_id, "offering_id": o.offering_id,
            "previous_provider_id": v.provider_id, "previous_offering_id": v.offering_id})
    await add_events(s, plumbing, [  # type: ignore[arg-type]
        (VouchersAssigned.model_validate({"region": region,
                                          "choices": items[i:i + ASSIGNED_PER_EVENT]}), region)
        for region, items in sorted(by_region.items())
        for i in range(0, len(items), ASSIGNED_PER_EVENT)])
