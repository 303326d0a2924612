"""The end of a voucher's life and the turns it can take: cancellation and transfer by a region
admin; expiry and the outcome deadline by the service's periodic job; the registry taking a
provider away (suspension, revocation, expiry, a withdrawn offering). Whatever is left on a
voucher that can no longer be claimed goes back to its budget."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal, Role
from contracts.voucher import (
    Chooser,
    Outcome,
    OutcomeSource,
    ReleaseReason,
    VoucherCancelled,
    VoucherExpired,
    VoucherTransferred,
)
from kit.db import Database
from kit.errors import Conflict, NotFound
from kit.idempotency import Once
from services.voucher import access, repository
from services.voucher.domain.lifecycle import (
    HOLDS_PLACE,
    Action,
    IllegalTransition,
    VoucherState,
    transition,
)
from services.voucher.models import Voucher
from services.voucher.schemas import CancelIn, TransferIn, VoucherOut
from services.voucher.use_cases.choices import choosable, end_choice, move_places, set_choice
from services.voucher.use_cases.claims import record_outcome
from services.voucher.use_cases.common import (
    emit,
    give_back_rest,
    once,
    record,
    refused,
    today,
    voucher_out,
)
from services.voucher.use_cases.delivery import release

SYSTEM = Principal(sub="voucher-service", role=Role.service)


async def _admin_voucher(s: AsyncSession, principal: Principal, voucher_id: str) -> Voucher:
    v = await repository.voucher(s, voucher_id, lock=True)
    if v is None or not access.is_region_admin(principal, v.region):
        raise NotFound("no such voucher")
    return v


async def end(s: AsyncSession, v: Voucher, action: Action, actor: Principal, reason: str,
              reason_code: str) -> None:
    """Cancel or expire: the place is given back, the rest of the money too; a started voucher
    gets its definitive outcome (not achieved)."""
    was = VoucherState(v.state)
    v.state = transition(was, action).value
    v.version += 1
    if was in HOLDS_PLACE and v.offering_id:
        await repository.free_place(s, v.offering_id)
        await end_choice(s, v, action.value)
    if action is Action.cancel:
        await emit(s, VoucherCancelled, v, reason_code=reason_code)
    else:
        await emit(s, VoucherExpired, v)
    if v.started_on is not None and v.outcome is None:
        await record_outcome(s, v, Outcome.not_achieved, OutcomeSource.cancelled)
    else:
        await give_back_rest(s, v)
    # the audit chain's head after the ledger's accounts (the lock order of repository.py)
    await record(s, actor, action=f"voucher.{v.state}", subject_type="voucher",
                 subject_id=v.id, region=v.region, reason=reason,
                 details={"reason_code": reason_code, "was": was.value})


async def cancel(db: Database, principal: Principal, voucher_id: str,
                 body: CancelIn, key: str | None) -> Once[VoucherOut]:
    async def work(s: AsyncSession) -> VoucherOut:
        v = await _admin_voucher(s, principal, voucher_id)
        try:
            await end(s, v, Action.cancel, principal, body.reason, body.reason_code.value)
        except IllegalTransition as exc:
            raise refused(exc) from None
        return voucher_out(v, principal, 0)

    return await once(db, principal, f"POST /vouchers/{voucher_id}/cancellation", key,
                      body.model_dump(mode="json"), work, VoucherOut)


async def transfer(db: Database, principal: Principal, voucher_id: str,
                   body: TransferIn, key: str | None) -> Once[VoucherOut]:
    """A started voucher moves to another provider: claims already made stay with the provider
    that made them (paid milestones stay paid); the rest of the value follows the voucher."""
    async def work(s: AsyncSession) -> VoucherOut:
        v = await _admin_voucher(s, principal, voucher_id)
        try:
            transition(VoucherState(v.state), Action.transfer)
        except IllegalTransition as exc:
            raise refused(exc) from None
        if v.offering_id == body.offering_id:
            raise Conflict("the voucher is already with that offering",
                           type="/problems/voucher-state")
        o = await choosable(s, v, body.offering_id)
        before = (v.provider_id, v.offering_id)
        await move_places(s, o.offering_id, before[1])
        await set_choice(s, v, o, Chooser.admin_on_behalf, principal, "transferred")
        v.flag = None
        await record(s, principal, action="voucher.transferred", subject_type="voucher",
                     subject_id=v.id, region=v.region, reason=body.reason,
                     details={"from_provider_id": before[0], "to_provider_id": o.provider_id})
        assert before[0] is not None and before[1] is not None
        await emit(s, VoucherTransferred, v, from_provider_id=before[0],
                   from_offering_id=before[1])
        return voucher_out(v, principal, 0)

    return await once(db, principal, f"POST /vouchers/{voucher_id}/transfer", key,
                      body.model_dump(mode="json"), work, VoucherOut)


async def run_deadlines(db: Database, *, batch: int = 500) -> dict[str, int]:
    """The periodic job: expire vouchers past their validity that never started, and record
    ``not_achieved`` for started vouchers whose outcome deadline passed. Each voucher in its own
    transaction (a voucher changed meanwhile is checked again under its lock)."""
    done = {"expired": 0, "outcomes": 0}
    async with db.reader() as s:
        expiring = await repository.due_to_expire(s, today(), batch)
        outcomes = await repository.outcome_due(s, today(), batch)
    for voucher_id in expiring:
        async with db.session() as s:
            v = await repository.voucher(s, voucher_id, lock=True)
            if v is not None and v.state in ("issued", "chosen") and v.valid_until < today():
                await end(s, v, Action.expire, SYSTEM, "validity ended", "expired")
                await s.commit()
                done["expired"] += 1
    for voucher_id in outcomes:
        async with db.session() as s:
            v = await repository.voucher(s, voucher_id, lock=True)
            if (v is not None and v.outcome is None and v.outcome_deadline is not None
                    and v.outcome_deadline < today() and v.started_on is not None):
                await record_outcome(s, v, Outcome.not_achieved, OutcomeSource.window_elapsed)
                await record(s, SYSTEM, action="voucher.outcome_deadline", subject_type="voucher",
                             subject_id=v.id, region=v.region,
                             reason="no outcome approved before the deadline")
                await s.commit()
                done["outcomes"] += 1
    return done


LOST = {"suspended": ReleaseReason.accreditation_suspended,
        "revoked": ReleaseReason.accreditation_revoked,
        "expired": ReleaseReason.accreditation_expired}


async def provider_lost(s: AsyncSession, provider_id: str, region: str, state: str) -> None:
    """In the consumer's transaction: the provider may no longer serve in ``region``. Vouchers
    that chose it and have not started are released (the holder chooses again); started ones
    are flagged for the region's admins (transfer or let it finish)."""
    reason = LOST.get(state)
    if reason is None:
        return
    for voucher_id in await repository.vouchers_of_provider_in_region(
            s, provider_id, region, ("chosen", "started")):
        v = await repository.voucher(s, voucher_id, lock=True)
        if v is None or v.provider_id != provider_id:
            continue
        if v.state == VoucherState.chosen:
            await release(s, v, reason)
        elif v.state == VoucherState.started and v.flag != f"provider_{state}":
            v.flag = f"provider_{state}"
            v.version += 1


async def offering_withdrawn(s: AsyncSession, offering_id: str) -> None:
    """In the consumer's transaction: chosen vouchers of a withdrawn offering are released."""
    for voucher_id in await repository.vouchers_of_offering(s, offering_id, ("chosen",)):
        v = await repository.voucher(s, voucher_id, lock=True)
        if v is not None and v.state == VoucherState.chosen and v.offering_id == offering_id:
            await release(s, v, ReleaseReason.offering_withdrawn)
