"""Claims: one per milestone of a voucher, submitted by its provider (a pending transfer from
the voucher to the provider's PAYABLE account), approved (posted) or rejected (voided) by a
region admin with a reason code. At most one claim per milestone is alive (a unique index), and
a pending transfer is resolved at most once (a unique key in the ledger): a milestone is paid
at most once however often it is claimed or approved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from contracts.voucher import (
    ClaimApproved,
    ClaimEvent,
    ClaimRejected,
    ClaimSubmitted,
    Outcome,
    OutcomeSource,
    VoucherOutcomeRecorded,
)
from kit.db import Database
from kit.errors import Conflict, NotFound, Unprocessable
from kit.idempotency import Once
from kit.outbox import add_event
from services.voucher import access, ledger, repository
from services.voucher.domain.ledger import (
    AccountKind,
    NewTransfer,
    TransferKind,
    payable_account,
)
from services.voucher.domain.money import split
from services.voucher.domain.reasons import EXPLANATIONS, needs_text
from services.voucher.models import Claim, Voucher, plumbing
from services.voucher.schemas import ClaimDecisionIn, ClaimOut
from services.voucher.use_cases.common import (
    amounts,
    emit,
    give_back_rest,
    now,
    once,
    record,
    today,
)

SETTLED = ("cancelled", "expired")


def claim_out(c: Claim) -> ClaimOut:
    out = ClaimOut.model_validate(c)
    if c.reason_code:
        fi, en = EXPLANATIONS[c.reason_code]
        out.reason_explained = {"fi": fi, "en": en}
    return out


async def claim_event(s: AsyncSession, cls: type[ClaimEvent], c: Claim, **extra: Any) -> None:
    await add_event(s, plumbing, cls(
        claim_id=c.id, voucher_id=c.voucher_id, provider_id=c.provider_id, region=c.region,
        service_type=c.service_type, milestone=c.milestone, amount_cents=c.amount_cents,
        status=c.status, reason_code=c.reason_code,
        outcome=Outcome(c.outcome) if c.outcome else None, version=c.version, **extra),
        resource=c.id)


async def submit(s: AsyncSession, v: Voucher, milestone: str, evidence: str,
                 outcome: Outcome | None = None) -> Claim:
    """The provider's claim for one milestone (the voucher row is locked by the caller): the
    milestone's amount moves, pending, from the voucher's accounts to the provider's PAYABLE
    accounts, funder by funder in proportion to what each still holds on the voucher."""
    assert v.provider_id is not None
    amount = amounts(v).get(milestone)
    if amount is None:
        raise Unprocessable.field("milestone", "is not in the voucher's payment scheme")
    c = Claim(id=str(uuid7()), voucher_id=v.id, provider_id=v.provider_id, region=v.region,
              budget_id=v.budget_id, service_type=v.service_type, milestone=milestone,
              amount_cents=amount, status="submitted", evidence=evidence,
              outcome=outcome.value if outcome else None, reason_code=None, reason_text="",
              submitted_at=now(), version=1)
    s.add(c)
    try:
        async with s.begin_nested():
            await s.flush()  # the unique index: one live claim per milestone
    except IntegrityError:
        raise Conflict(f"the {milestone} milestone has already been claimed",
                       type="/problems/milestone-already-claimed") from None
    if amount > 0:
        held = await ledger.owned(s, AccountKind.voucher, v.id)
        parts = split(amount, {f: b.available for f, (_, b) in held.items()})
        transfers = [NewTransfer(held[f][0], payable_account(v.region, f, v.budget_id,
                                                             v.provider_id), part,
                                 TransferKind.claim, pending=True)
                     for f, part in sorted(parts.items()) if part > 0]
        await ledger.open_accounts(s, [t.credit for t in transfers])
        await ledger.transfer(s, transfers, ledger.Refs(f"claim:{c.id}", v.budget_id, v.id,
                                                        v.provider_id))
    await claim_event(s, ClaimSubmitted, c)
    return c


async def decide(db: Database, principal: Principal, claim_id: str,
                 body: ClaimDecisionIn, key: str | None) -> Once[ClaimOut]:
    async def work(s: AsyncSession) -> ClaimOut:
        found = await repository.claim(s, claim_id)
        if found is None or not access.is_region_admin(principal, found.region):
            raise NotFound("no such claim")
        # Lock order: the voucher, then the claim (as every change of a voucher does).
        v = await repository.voucher(s, found.voucher_id, lock=True)
        c = await repository.claim(s, claim_id, lock=True)
        assert v is not None and c is not None
        if c.status != "submitted":
            raise Conflict(f"the claim was already {c.status}", type="/problems/already-decided")
        approve = body.decision == "approve"
        if not approve:
            if body.reason_code is None:
                raise Unprocessable.field("reason_code", "is required to reject a claim")
            if needs_text(body.reason_code.value) and not body.reason:
                raise Unprocessable.field("reason", "explains the reason code 'other'")
        pending = await ledger.pending_of(s, f"claim:{c.id}")
        await ledger.resolve(s, pending, post=approve)
        c.status = "approved" if approve else "rejected"
        c.reason_code = None if approve else body.reason_code.value  # type: ignore[union-attr]
        c.reason_text, c.decided_at, c.decided_by = body.reason, now(), principal.sub
        c.version += 1
        await claim_event(s, ClaimApproved if approve else ClaimRejected, c)
        if approve and c.outcome and v.outcome is None:
            await record_outcome(s, v, Outcome(c.outcome), OutcomeSource.claim_approved)
        elif not approve and (v.state in SETTLED or v.outcome is not None):
            await give_back_rest(s, v)  # the voucher is over: what the claim held goes back
        # The audit chain's head last, after every ledger account (the lock order of
        # repository.py): issuance takes the budget's account before the head, so taking the
        # head first here could wait for it in a circle.
        await record(s, principal, action=f"claim.{c.status}", subject_type="claim",
                     subject_id=c.id, region=c.region,
                     reason=body.reason or (c.reason_code or "approved"),
                     details={"voucher_id": v.id, "milestone": c.milestone,
                              "amount_cents": c.amount_cents, "reason_code": c.reason_code})
        return claim_out(c)

    return await once(db, principal, f"POST /claims/{claim_id}/decision", key,
                      body.model_dump(mode="json"), work, ClaimOut)


async def record_outcome(s: AsyncSession, v: Voucher, outcome: Outcome,
                         source: OutcomeSource) -> None:
    """The voucher's one definitive outcome; what no claim can take any more goes back to the
    budget."""
    assert v.started_on is not None
    v.outcome = outcome.value
    v.version += 1
    await emit(s, VoucherOutcomeRecorded, v, outcome=outcome, source=source,
               started_on=v.started_on, completed_on=v.completed_on)
    await give_back_rest(s, v)


async def get(db: Database, principal: Principal, claim_id: str) -> ClaimOut:
    async with db.reader() as s:
        return claim_out(access.visible_claim(principal, await repository.claim(s, claim_id)))


async def list_(db: Database, principal: Principal, *, status: str | None, after: str | None,
                limit: int) -> list[ClaimOut]:
    scope = access.claim_scope(principal)
    async with db.reader() as s:
        rows = await repository.claims(s, scope, status=status, after=after, limit=limit)
    return [claim_out(c) for c in rows]


__all__ = ["decide", "get", "list_", "record_outcome", "submit", "today"]
