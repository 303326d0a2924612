"""What the voucher use cases share: time, the audit chain, events built from a voucher row,
the view of a voucher, and the mapping of ledger refusals to answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from contracts.voucher import Profile, VoucherEvent
from kit import audit
from kit.db import Database
from kit.errors import Conflict, Problem
from kit.idempotency import Once, run_once
from kit.outbox import add_event
from kit.persons import holder_ref
from services.voucher import access, ledger
from services.voucher.domain.ledger import (
    AccountKind,
    NewTransfer,
    TransferKind,
    budget_account,
    funder_account,
)
from services.voucher.domain.lifecycle import IllegalTransition
from services.voucher.domain.money import Milestone, milestone_amounts
from services.voucher.models import Budget, Voucher, audit_log, plumbing
from services.voucher.schemas import ScheduledMilestone, VoucherOut

FINLAND = ZoneInfo("Europe/Helsinki")


E = TypeVar("E", bound=VoucherEvent)
M = TypeVar("M", bound=BaseModel)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today in Finland: validity and deadlines are Finnish calendar dates."""
    return now().astimezone(FINLAND).date()


def scope(principal: Principal, route: str) -> str:
    return f"{principal.sub}:{route}"


async def once(db: Database, principal: Principal, route: str, key: str | None,
               payload: Any, change: Callable[[AsyncSession], Awaitable[M]],
               answer: type[M]) -> Once[M]:
    """Run a writing use case under its Idempotency-Key: the first answer, refusals
    included, is what every retry gets; the same key with another body is a 409."""
    return await run_once(db, plumbing, scope=scope(principal, route), key=key,
                          payload=payload, change=change, answer=answer,
                          replay_errors=True, conflict_on_reuse=True)


async def record(s: AsyncSession, principal: Principal | None, *, action: str,
                 subject_type: str, subject_id: str, region: str, reason: str,
                 details: dict[str, Any] | None = None) -> None:
    """An audit entry in the region's hash chain, in the caller's transaction."""
    await audit.record(s, audit_log, actor=principal, action=action, subject_type=subject_type,
                       subject_id=subject_id, reason=reason, region=region, details=details,
                       chain=region)


def voucher_event(cls: type[E], v: Voucher, **extra: Any) -> E:
    return cls(
        voucher_id=v.id, version=v.version, state=v.state, budget_id=v.budget_id,
        region=v.region, service_type=v.service_type, holder_kind=v.holder_kind,
        home_municipality=v.home_municipality, languages=list(v.languages),
        remote_suits=v.remote_suits, profile=Profile.model_validate(v.profile),
        value_cents=v.value_cents, valid_until=v.valid_until,
        choice_deadline=v.choice_deadline, provider_id=v.provider_id,
        offering_id=v.offering_id,
        holder_ref=holder_ref(v.person_key, v.id) if v.person_key else None, **extra)


async def emit(s: AsyncSession, cls: type[E], v: Voucher, **extra: Any) -> None:
    await add_event(s, plumbing, voucher_event(cls, v, **extra), resource=v.id)


def scheme(v: Voucher) -> list[Milestone]:
    return [Milestone(m["code"], int(m["share_bp"])) for m in v.payment_scheme]


def amounts(v: Voucher) -> dict[str, int]:
    return milestone_amounts(v.value_cents, scheme(v))


def voucher_out(v: Voucher, viewer: Principal, paid_cents: int) -> VoucherOut:
    details = access.sees_holder_details(viewer, v)
    due = amounts(v)
    return VoucherOut(
        id=v.id, code=v.code if details else None, state=v.state, budget_id=v.budget_id,
        region=v.region, service_type=v.service_type, holder_kind=v.holder_kind,
        holder_business_id=v.business_id if details else None,
        home_municipality=v.home_municipality, languages=list(v.languages),
        remote_suits=v.remote_suits,
        profile=Profile.model_validate(v.profile) if details else None,
        value_cents=v.value_cents, co_payment_cents=v.co_payment_cents,
        payment_scheme=[ScheduledMilestone(code=m.code, share_bp=m.share_bp,
                                           amount_cents=due[m.code]) for m in scheme(v)],
        valid_until=v.valid_until, choice_deadline=v.choice_deadline,
        provider_id=v.provider_id, offering_id=v.offering_id, chosen_by=v.chosen_by,
        started_on=v.started_on, completed_on=v.completed_on, outcome=v.outcome,
        outcome_deadline=v.outcome_deadline, flag=v.flag if details else None,
        paid_cents=paid_cents, version=v.version, issued_at=v.issued_at)


def refused(exc: Exception) -> Problem:
    """A domain or ledger refusal as the answer the client gets."""
    if isinstance(exc, IllegalTransition):
        return Conflict(str(exc), type="/problems/voucher-state")
    if isinstance(exc, ledger.InsufficientFunds):
        what = exc.account_id.split(":", 1)[0]
        return Conflict(f"the {what} does not hold enough money for this",
                        type="/problems/insufficient-funds")
    if isinstance(exc, ledger.AlreadyResolved):
        return Conflict("this was already decided", type="/problems/already-decided")
    raise exc


async def give_back_rest(s: AsyncSession, v: Voucher) -> int:
    """Return what is left on the voucher (not claimed, not reserved by a pending claim) to
    its budget, funder by funder. Returns the cents given back."""
    held = await ledger.owned(s, AccountKind.voucher, v.id)
    transfers = [NewTransfer(ref, budget_account(v.region, funder, v.budget_id),
                             balance.available, TransferKind.give_back)
                 for funder, (ref, balance) in sorted(held.items()) if balance.available > 0]
    if transfers:
        await ledger.transfer(s, transfers, ledger.Refs(f"voucher:{v.id}", v.budget_id, v.id))
        budget = await s.get(Budget, v.budget_id)
        if budget is not None and budget.status == "closed":  # follows the budget's money
            await return_to_funders(s, budget)
    return sum(t.amount for t in transfers)


async def return_to_funders(s: AsyncSession, b: Budget) -> int:
    held = await ledger.owned(s, AccountKind.budget, b.id)
    transfers = [NewTransfer(ref, funder_account(b.region, funder), balance.available,
                             TransferKind.close)
                 for funder, (ref, balance) in sorted(held.items()) if balance.available > 0]
    if transfers:
        await ledger.transfer(s, transfers, ledger.Refs(f"budget:{b.id}", b.id))
    return sum(t.amount for t in transfers)

