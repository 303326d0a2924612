"""Budgets: opened, topped up and closed by a region admin; their usage per funder comes from
the ledger's running totals of the transfers (kept with them, in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from contracts.voucher import BudgetClosed, BudgetEvent, BudgetOpened, BudgetToppedUp, FunderShare
from kit.db import Database
from kit.errors import Conflict, FieldError, NotFound, Unprocessable
from kit.idempotency import Once
from kit.outbox import add_event
from services.voucher import access, ledger, repository
from services.voucher.domain.ledger import (
    NewTransfer,
    TransferKind,
    budget_account,
    funder_account,
)
from services.voucher.domain.usage import Usage, usage
from services.voucher.models import Budget, plumbing
from services.voucher.schemas import BudgetIn, BudgetOut, CloseIn, FunderUsage, TopUpIn
from services.voucher.use_cases.common import now, once, record, return_to_funders


async def usage_of(s: AsyncSession, budget_ids: Sequence[str]) -> dict[str, dict[str, Usage]]:
    """Usage per budget and funder, from the ledger's running totals of the transfers."""
    sums = await ledger.usage_sums(s, budget_ids)
    return {b: {f: usage(s_) for f, s_ in by_funder.items()} for b, by_funder in sums.items()}


def budget_out(b: Budget, by_funder: dict[str, Usage]) -> BudgetOut:
    return BudgetOut(
        id=b.id, region=b.region, service_type=b.service_type, period_start=b.period_start,
        period_end=b.period_end, status=b.status, version=b.version, created_at=b.created_at,
        closed_at=b.closed_at,
        funders=[FunderUsage(funder=f, funded_cents=u.funded, committed_cents=u.committed,
                             spent_cents=u.spent, pending_cents=u.pending,
                             released_cents=u.released, available_cents=u.available)
                 for f, u in sorted(by_funder.items())])


async def _event(s: AsyncSession, cls: type[BudgetEvent], b: Budget, **extra: Any) -> BudgetOut:
    out = budget_out(b, (await usage_of(s, [b.id])).get(b.id, {}))
    await add_event(s, plumbing, cls(
        budget_id=b.id, region=b.region, service_type=b.service_type,
        period_start=b.period_start, period_end=b.period_end, status=b.status,
        funders=[FunderShare(funder=f.funder, amount_cents=f.funded_cents) for f in out.funders],
        total_cents=sum(f.funded_cents for f in out.funders), version=b.version, **extra),
        resource=b.id)
    return out


async def open_budget(db: Database, principal: Principal, body: BudgetIn,
                      key: str | None) -> Once[BudgetOut]:
    region = access.admin_region(principal)

    async def work(s: AsyncSession) -> BudgetOut:
        errors = []
        if body.period_end < body.period_start:
            errors.append(FieldError(field="period_end", message="is before period_start"))
        funders = [f.funder for f in body.funders]
        if len(set(funders)) != len(funders):
            errors.append(FieldError(field="funders", message="a funder is listed twice"))
        if await repository.service_type(s, body.service_type) is None:
            errors.append(FieldError(field="service_type",
                                     message=f"unknown service type '{body.service_type}'"))
        if errors:
            raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors),
                                errors=errors)
        if await repository.budget_exists(s, region, body.service_type, body.period_start):
            raise Conflict("the region already has a budget for this service type starting "
                           "that day", type="/problems/duplicate-budget")
        b = Budget(id=str(uuid7()), region=region, service_type=body.service_type,
                   period_start=body.period_start, period_end=body.period_end, status="open",
                   version=1, created_at=now(), closed_at=None)
        s.add(b)
        await s.flush()
        transfers = [NewTransfer(funder_account(region, f.funder),
                                 budget_account(region, f.funder, b.id), f.amount_cents,
                                 TransferKind.funding) for f in body.funders]
        await ledger.open_accounts(s, [a for t in transfers for a in (t.debit, t.credit)])
        await ledger.transfer(s, transfers, ledger.Refs(f"budget:{b.id}", b.id))
        await record(s, principal, action="budget.opened", subject_type="budget",
                     subject_id=b.id, region=region, reason="budget opened",
                     details={"funders": {f.funder: f.amount_cents for f in body.funders}})
        out = await _event(s, BudgetOpened, b)
        return out

    return await once(db, principal, "POST /budgets", key,
                      body.model_dump(mode="json"), work, BudgetOut)


async def _own_open_budget(s: AsyncSession, principal: Principal, budget_id: str) -> Budget:
    b = await repository.budget(s, budget_id, lock=True)
    if b is None or not access.is_region_admin(principal, b.region):
        raise NotFound("no such budget")
    if b.status != "open":
        raise Conflict("the budget is closed", type="/problems/budget-closed")
    return b


async def top_up(db: Database, principal: Principal, budget_id: str,
                 body: TopUpIn, key: str | None) -> Once[BudgetOut]:
    async def work(s: AsyncSession) -> BudgetOut:
        b = await _own_open_budget(s, principal, budget_id)
        t = NewTransfer(funder_account(b.region, body.funder),
                        budget_account(b.region, body.funder, b.id), body.amount_cents,
                        TransferKind.funding)
        await ledger.open_accounts(s, [t.debit, t.credit])
        await ledger.transfer(s, [t], ledger.Refs(f"budget:{b.id}", b.id))
        b.version += 1
        await record(s, principal, action="budget.topped_up", subject_type="budget",
                     subject_id=b.id, region=b.region, reason=body.reason,
                     details={"funder": body.funder, "amount_cents": body.amount_cents})
        out = await _event(s, BudgetToppedUp, b, funder=body.funder,
                           amount_cents=body.amount_cents)
        return out

    return await once(db, principal, f"POST /budgets/{budget_id}/top-ups", key,
                      body.model_dump(mode="json"), work, BudgetOut)


async def close(db: Database, principal: Principal, budget_id: str,
                body: CloseIn, key: str | None) -> Once[BudgetOut]:
    """Close: nothing more is issued from it; what it still holds goes back to the funders.
    Money that vouchers give back later follows it there (see ``give_back_rest``)."""
    async def work(s: AsyncSession) -> BudgetOut:
        b = await _own_open_budget(s, principal, budget_id)
        b.status, b.closed_at = "closed", now()
        b.version += 1
        returned = await return_to_funders(s, b)
        await record(s, principal, action="budget.closed", subject_type="budget",
                     subject_id=b.id, region=b.region, reason=body.reason,
                     details={"returned_cents": returned})
        out = await _event(s, BudgetClosed, b)
        return out

    return await once(db, principal, f"POST /budgets/{budget_id}/closure", key,
                      body.model_dump(mode="json"), work, BudgetOut)


async def get(db: Database, principal: Principal, budget_id: str) -> BudgetOut:
    async with db.reader() as s:
        b = await repository.budget(s, budget_id)
        if b is None or not access.is_region_admin(principal, b.region):
            raise NotFound("no such budget")
        return budget_out(b, (await usage_of(s, [b.id])).get(b.id, {}))


async def list_(db: Database, principal: Principal, *, after: str | None,
                limit: int) -> list[BudgetOut]:
    region = access.admin_region(principal)
    async with db.reader() as s:
        rows = await repository.budgets(s, region, after=after, limit=limit)
        by_budget = await usage_of(s, [b.id for b in rows])
    return [budget_out(b, by_budget.get(b.id, {})) for b in rows]
