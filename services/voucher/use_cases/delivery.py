"""The provider's side: the vouchers that chose it are started, their milestones reported with
evidence (each one a claim), completed, or declined before the start (the holder chooses
again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from contracts.voucher import (
    ReleaseReason,
    VoucherCompleted,
    VoucherMilestoneReached,
    VoucherReleased,
    VoucherStarted,
)
from kit.db import Database
from kit.errors import Conflict, Forbidden, Unprocessable
from kit.idempotency import Once
from services.voucher import access, repository
from services.voucher.domain.issuance import outcome_deadline
from services.voucher.domain.lifecycle import Action, IllegalTransition, VoucherState, transition
from services.voucher.models import Voucher, VoucherMilestone
from services.voucher.schemas import DeclineIn, EvidenceIn, MilestoneIn, VoucherOut
from services.voucher.settings import Settings
from services.voucher.use_cases import claims
from services.voucher.use_cases.choices import end_choice
from services.voucher.use_cases.common import (
    emit,
    now,
    once,
    refused,
    scheme,
    today,
    voucher_out,
)

START, COMPLETION, OUTCOME = "start", "completion", "outcome"
Change = Callable[[AsyncSession, Voucher], Awaitable[None]]


async def _as_provider(db: Database, principal: Principal, voucher_id: str, route: str,
                       key: str | None, payload: Any, change: Change) -> Once[VoucherOut]:
    """Run ``change`` on a voucher its current provider acts on (row locked)."""
    async def work(s: AsyncSession) -> VoucherOut:
        v = access.visible_voucher(principal, await repository.voucher(s, voucher_id,
                                                                       lock=True))
        if not access.is_current_provider(principal, v):
            raise Forbidden("only the voucher's chosen provider does this")
        try:
            await change(s, v)
        except IllegalTransition as exc:
            raise refused(exc) from None
        return voucher_out(v, principal, 0)

    return await once(db, principal, f"POST /vouchers/{voucher_id}/{route}", key,
                      payload, work, VoucherOut)


async def reach(s: AsyncSession, v: Voucher, milestone: str, evidence: str,
                outcome: Any = None) -> None:
    """Record the milestone (once) and claim it when the payment scheme pays for it."""
    if v.outcome is not None:
        raise Conflict("the voucher's outcome is recorded: nothing more can be claimed",
                       type="/problems/voucher-settled")
    if await repository.milestone(s, v.id, milestone) is not None:
        raise Conflict(f"the {milestone} milestone was already reported",
                       type="/problems/milestone-already-reported")
    assert v.provider_id is not None
    s.add(VoucherMilestone(voucher_id=v.id, milestone=milestone, provider_id=v.provider_id,
                           reached_on=today(), evidence=evidence, reported_at=now()))
    v.version += 1
    await emit(s, VoucherMilestoneReached, v, milestone=milestone, reached_on=today())
    if milestone in {m.code for m in scheme(v)}:
        await claims.submit(s, v, milestone, evidence, outcome)


async def start(db: Database, settings: Settings, principal: Principal, voucher_id: str,
                body: EvidenceIn, key: str | None) -> Once[VoucherOut]:
    async def change(s: AsyncSession, v: Voucher) -> None:
        v.state = transition(VoucherState(v.state), Action.start).value
        v.started_on = today()
        v.outcome_deadline = outcome_deadline(None, v.valid_until, settings.outcome_days)
        v.version += 1
        await emit(s, VoucherStarted, v, started_on=v.started_on)
        await reach(s, v, START, body.evidence)

    return await _as_provider(db, principal, voucher_id, "start", key,
                              body.model_dump(mode="json"), change)


async def milestone(db: Database, principal: Principal, voucher_id: str,
                    body: MilestoneIn, key: str | None) -> Once[VoucherOut]:
    async def change(s: AsyncSession, v: Voucher) -> None:
        if body.milestone in (START, COMPLETION):
            raise Unprocessable.field("milestone", f"'{body.milestone}' is reported by "
                                      f"POST /vouchers/{{id}}/{body.milestone}")
        if body.milestone not in {m.code for m in scheme(v)}:
            raise Unprocessable.field("milestone", "is not in the voucher's payment scheme")
        if body.milestone == OUTCOME:
            if body.outcome is None or body.outcome.value == "not_achieved":
                raise Unprocessable.field("outcome", "is employed or studying")
            if v.state != VoucherState.completed:
                raise Conflict("the outcome is reported after the service is completed",
                               type="/problems/voucher-state")
        elif v.state != VoucherState.started:
            raise Conflict(f"a voucher that is {v.state} reports no milestones",
                           type="/problems/voucher-state")
        await reach(s, v, body.milestone, body.evidence, body.outcome)

    return await _as_provider(db, principal, voucher_id, "milestones", key,
                              body.model_dump(mode="json"), change)


async def complete(db: Database, settings: Settings, principal: Principal, voucher_id: str,
                   body: EvidenceIn, key: str | None) -> Once[VoucherOut]:
    async def change(s: AsyncSession, v: Voucher) -> None:
        v.state = transition(VoucherState(v.state), Action.complete).value
        v.completed_on = today()
        v.outcome_deadline = outcome_deadline(v.completed_on, v.valid_until,
                                              settings.outcome_days)
        v.version += 1
        assert v.offering_id is not None
        await repository.free_place(s, v.offering_id)
        await emit(s, VoucherCompleted, v, completed_on=v.completed_on)
        await reach(s, v, COMPLETION, body.evidence)

    return await _as_provider(db, principal, voucher_id, "completion", key,
                              body.model_dump(mode="json"), change)


async def claim_again(db: Database, principal: Principal,
                      voucher_id: str, body: MilestoneIn, key: str | None) -> Once[VoucherOut]:
    """A reported milestone whose claim was rejected is claimed again with new evidence."""
    async def change(s: AsyncSession, v: Voucher) -> None:
        if await repository.milestone(s, v.id, body.milestone) is None:
            raise Unprocessable.field("milestone", "has not been reported")
        if v.outcome is not None or v.state in claims.SETTLED:
            raise Conflict("nothing more can be claimed on this voucher",
                           type="/problems/voucher-settled")
        await claims.submit(s, v, body.milestone, body.evidence, body.outcome)

    return await _as_provider(db, principal, voucher_id, "claims", key,
                              body.model_dump(mode="json"), change)


async def release(s: AsyncSession, v: Voucher, reason: ReleaseReason) -> None:
    """The chosen provider is taken away before the start: the holder chooses again."""
    released = (v.provider_id, v.offering_id)
    v.state = transition(VoucherState(v.state), Action.release).value
    assert released[0] is not None and released[1] is not None
    await repository.free_place(s, released[1])
    await end_choice(s, v, reason.value)
    v.provider_id = v.offering_id = v.chosen_by = None
    v.co_payment_cents = 0
    v.version += 1
    await emit(s, VoucherReleased, v, released_provider_id=released[0],
               released_offering_id=released[1], reason=reason)


async def decline(db: Database, principal: Principal, voucher_id: str,
                  body: DeclineIn, key: str | None) -> Once[VoucherOut]:
    async def change(s: AsyncSession, v: Voucher) -> None:
        if body.reason_code.value == "other" and not body.reason:
            raise Unprocessable.field("reason", "explains the reason code 'other'")
        await release(s, v, ReleaseReason.provider_declined)

    return await _as_provider(db, principal, voucher_id, "declination", key,
                              body.model_dump(mode="json"), change)
