"""The ledger: the only code that changes account totals, always together with the transfers
that explain them, in the caller's transaction (it flushes, never commits).

Every call is linked: its transfers all happen or none does (an error leaves the caller to roll
back). Account rows are changed in the order of their ids, one conditional ``UPDATE`` each:
a limited account is changed only ``WHERE`` its posted credits still cover every debit after
the change, so two transactions can never overdraw it together (PostgreSQL re-checks the
condition on the row it waited for; SQLite has one writer), and the CHECK constraint on the
table refuses anything that slips past. Touching accounts in one global order means two
transactions never wait for each other in a circle. Callers lock their own rows (voucher,
claim, batch) before calling in, so the ledger's account locks are always taken last.

Each call also adds its transfers to the running totals of ``budget_usage`` (per budget,
funder, kind and phase), after the accounts, in key order, by ``INSERT … ON CONFLICT DO
UPDATE SET total_cents = total_cents + excluded.total_cents``: a budget's usage is read in one
lookup, and :func:`usage_mismatches` recomputes the totals from the transfers. Whoever adds to
a funding, issue, give-back or close total already holds that budget's account of the funder;
a payment total, the region's clearing account: those rows add no wait. Claims of one budget
and funder now queue on their total until commit: decisions already queued on the region's
audit chain, but submissions by different providers did not queue before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from kit.db import dialect_insert, insert_ignoring_conflicts
from services.voucher.domain.ledger import (
    AccountKind,
    AccountRef,
    Balance,
    NewTransfer,
    Phase,
    TransferKind,
    effect,
)
from services.voucher.domain.usage import Sums
from services.voucher.models import BudgetUsage, LedgerAccount, LedgerTransfer

A: Table = LedgerAccount.__table__  # type: ignore[assignment]
T: Table = LedgerTransfer.__table__  # type: ignore[assignment]
U: Table = BudgetUsage.__table__  # type: ignore[assignment]
UsageKey = tuple[str, str, str, str]  # budget, funder, kind, phase


class InsufficientFunds(Exception):
    """A limited account would go below zero."""

    def __init__(self, account_id: str) -> None:
        super().__init__(f"account {account_id} does not hold enough")
        self.account_id = account_id


class AlreadyResolved(Exception):
    """A pending transfer was already posted or voided (or is not pending at all)."""


@dataclass(frozen=True)
class Refs:
    """What a set of transfers is about (stored on every transfer row, for reports)."""

    reference: str
    budget_id: str
    voucher_id: str | None = None
    provider_id: str | None = None


def _account_row(ref: AccountRef, balance: Balance | None = None) -> dict[str, Any]:
    b = balance or Balance()
    return dict(id=ref.id, kind=ref.kind.value, region=ref.region, funder=ref.funder,
                owner=ref.owner, debits_must_not_exceed_credits=ref.limited,
                debits_pending=b.debits_pending, debits_posted=b.debits_posted,
                credits_pending=b.credits_pending, credits_posted=b.credits_posted)


async def open_accounts(s: AsyncSession, refs: Iterable[AccountRef]) -> None:
    """Make sure the accounts exist (an account that exists is left as it is)."""
    rows = [_account_row(r) for r in {r.id: r for r in refs}.values()]
    if rows:
        await s.execute(insert_ignoring_conflicts(s, A, rows))


async def transfer(
    s: AsyncSession,
    transfers: Sequence[NewTransfer],
    refs: Refs | Sequence[Refs],
    *,
    new_accounts: Iterable[AccountRef] = (),
) -> list[str]:
    """Write single-phase or pending transfers (linked). ``refs`` is one for all, or one per
    transfer. Accounts in ``new_accounts`` do not exist yet and are created with the totals the
    transfers give them (one INSERT instead of INSERT + UPDATE: what bulk issuance needs).
    Returns the transfer ids."""
    per = list(refs) if isinstance(refs, Sequence) else [refs] * len(transfers)
    if len(per) != len(transfers):
        raise ValueError("one Refs per transfer")
    group = str(uuid7())
    now = datetime.now(UTC)
    rows, deltas, added = [], _Deltas(), defaultdict[UsageKey, int](int)
    for t, r in zip(transfers, per, strict=True):
        t.check()
        phase = Phase.pending if t.pending else Phase.posted
        deltas.add(t.debit, t.credit, phase, t.amount)
        added[(r.budget_id, t.debit.funder, t.kind.value, phase.value)] += t.amount
        rows.append(dict(
            id=str(uuid7()), debit_account_id=t.debit.id, credit_account_id=t.credit.id,
            amount=t.amount, kind=t.kind.value, phase=phase.value, pending_id=None,
            region=t.debit.region, funder=t.debit.funder, budget_id=r.budget_id,
            voucher_id=r.voucher_id, provider_id=r.provider_id, reference=r.reference,
            group_id=group, created_at=now))
    await deltas.apply(s, {a.id: a for a in new_accounts})
    if rows:
        await s.execute(insert(T), rows)
    await _add_usage(s, added)
    return [str(r["id"]) for r in rows]


async def resolve(s: AsyncSession, pending_ids: Sequence[str], *, post: bool,
                  reference: str | None = None) -> list[str]:
    """Post (or void) pending transfers, each at most once: a new transfer names the pending
    one, and ``pending_id`` is unique, so a second resolution can never be written."""
    if not pending_ids:
        return []
    phase = Phase.post if post else Phase.void
    pendings = (await s.execute(select(T).where(T.c.id.in_(pending_ids)))).mappings().all()
    resolved = await s.scalar(select(func.count()).select_from(T)
                              .where(T.c.pending_id.in_(pending_ids)))
    if (len(pendings) != len(set(pending_ids)) or resolved
            or any(p["phase"] != Phase.pending.value for p in pendings)):
        raise AlreadyResolved("only a pending transfer that is not yet resolved can be "
                              "posted or voided")
    group = str(uuid7())
    now = datetime.now(UTC)
    deltas, rows, added = _Deltas(), [], defaultdict[UsageKey, int](int)
    for p in sorted(pendings, key=lambda p: str(p["id"])):
        deltas.add_ids(p["debit_account_id"], p["credit_account_id"], phase, int(p["amount"]))
        added[(str(p["budget_id"]), str(p["funder"]), str(p["kind"]), phase.value)] += int(
            p["amount"])
        rows.append({**dict(p), "id": str(uuid7()), "phase": phase.value, "pending_id": p["id"],
                     "reference": reference or p["reference"], "group_id": group,
                     "created_at": now})
    await deltas.apply(s, {})
    await s.execute(insert(T), rows)
    await _add_usage(s, added)
    return [str(r["id"]) for r in rows]


async def _add_usage(s: AsyncSession, added: dict[UsageKey, int]) -> None:
    """Add to the running totals, one atomic upsert per key, in key order (after the
    accounts: the lock order of the module docstring)."""
    for (budget_id, funder, kind, phase) in sorted(added):
        stmt = dialect_insert(s, U).values(
            budget_id=budget_id, funder=funder, kind=kind, phase=phase,
            total_cents=added[(budget_id, funder, kind, phase)])
        await s.execute(stmt.on_conflict_do_update(
            index_elements=[U.c.budget_id, U.c.funder, U.c.kind, U.c.phase],
            set_={"total_cents": U.c.total_cents + stmt.excluded.total_cents}))


class _Deltas:
    """Net change of each account's four totals within one call."""

    def __init__(self) -> None:
        self.by_account: dict[str, Balance] = {}

    def add(self, debit: AccountRef, credit: AccountRef, phase: Phase, amount: int) -> None:
        self.add_ids(debit.id, credit.id, phase, amount)

    def add_ids(self, debit: str, credit: str, phase: Phase, amount: int) -> None:
        d, c = effect(phase, amount)
        self.by_account.setdefault(debit, Balance()).add(d)
        self.by_account.setdefault(credit, Balance()).add(c)

    async def apply(self, s: AsyncSession, new: dict[str, AccountRef]) -> None:
        created = [_account_row(new[i], self.by_account.get(i)) for i in sorted(new)]
        for row, ref in zip(created, (new[i] for i in sorted(new)), strict=True):
            b = Balance(row["debits_pending"], row["debits_posted"], row["credits_pending"],
                        row["credits_posted"])
            if not b.within_limits(ref.limited):
                raise InsufficientFunds(ref.id)
        if created:
            await s.execute(insert(A), created)
        for account_id in sorted(set(self.by_account) - set(new)):  # one global order
            await _change(s, account_id, self.by_account[account_id])


async def _change(s: AsyncSession, account_id: str, d: Balance) -> None:
    after = {c: A.c[c] + literal(getattr(d, c)) for c in
             ("debits_pending", "debits_posted", "credits_pending", "credits_posted")}
    condition = [A.c.id == account_id]
    if d.available < 0 or d.debits_pending < 0 or d.credits_pending < 0:
        # Guard only what the change could break: available money, and pending totals that
        # must not go below zero. A change that only adds needs no guard beyond the CHECK.
        condition.append(
            (~A.c.debits_must_not_exceed_credits)
            | (after["credits_posted"] - after["debits_posted"] - after["debits_pending"] >= 0))
        condition += [after["debits_pending"] >= 0, after["credits_pending"] >= 0]
    result = await s.execute(update(A).where(and_(*condition)).values(
        **{c: expr for c, expr in after.items() if getattr(d, c) != 0}))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InsufficientFunds(account_id)


# ------------------------------------------------------------------ reads


async def balances(s: AsyncSession, ids: Iterable[str]) -> dict[str, Balance]:
    rows = (await s.execute(select(A).where(A.c.id.in_(list(ids))))).mappings().all()
    return {str(r["id"]): Balance(int(r["debits_pending"]), int(r["debits_posted"]),
                                  int(r["credits_pending"]), int(r["credits_posted"]))
            for r in rows}


async def owned(s: AsyncSession, kind: AccountKind, owner: str, *,
                lock: bool = False) -> dict[str, tuple[AccountRef, Balance]]:
    """The accounts of one budget or voucher (one per funder), by funder; ``lock`` takes the
    row locks in id order (for deciding a split that the conditional updates then enforce)."""
    q = select(A).where(A.c.kind == kind.value, A.c.owner == owner).order_by(A.c.id)
    if lock:
        q = q.with_for_update()
    out = {}
    for r in (await s.execute(q)).mappings().all():
        ref = AccountRef(kind, str(r["region"]), str(r["funder"]), str(r["owner"]))
        out[ref.funder] = (ref, Balance(int(r["debits_pending"]), int(r["debits_posted"]),
                                        int(r["credits_pending"]), int(r["credits_posted"])))
    return out


async def pending_of(s: AsyncSession, reference: str) -> list[str]:
    """Ids of the still unresolved pending transfers written with ``reference``."""
    resolution = T.alias("resolution")
    rows = await s.scalars(select(T.c.id).where(
        T.c.reference == reference, T.c.phase == Phase.pending.value,
        ~select(resolution.c.id).where(resolution.c.pending_id == T.c.id).exists(),
    ).order_by(T.c.id))
    return list(rows)


async def usage_sums(s: AsyncSession, budget_ids: Sequence[str]
                     ) -> dict[str, dict[str, Sums]]:
    """Transfer sums by (kind, phase) per budget and funder, from the running totals: one
    indexed lookup per budget, whatever its number of vouchers."""
    out: dict[str, dict[str, Sums]] = defaultdict(lambda: defaultdict(dict))
    for i in range(0, len(budget_ids), 500):
        rows = await s.execute(select(U.c.budget_id, U.c.funder, U.c.kind, U.c.phase,
                                      U.c.total_cents)
                               .where(U.c.budget_id.in_(budget_ids[i:i + 500])))
        for budget_id, funder, kind, phase, total in rows.all():
            out[str(budget_id)][str(funder)][(str(kind), str(phase))] = int(total)
    return out


async def usage_sums_from_transfers(s: AsyncSession, budget_ids: Sequence[str] | None = None
                                    ) -> dict[str, dict[str, Sums]]:
    """The same sums recomputed from the transfers themselves (every budget when ``budget_ids``
    is None): what the running totals must always equal."""
    q = select(T.c.budget_id, T.c.funder, T.c.kind, T.c.phase, func.sum(T.c.amount))
    if budget_ids is not None:
        q = q.where(T.c.budget_id.in_(budget_ids))
    rows = await s.execute(q.group_by(T.c.budget_id, T.c.funder, T.c.kind, T.c.phase))
    out: dict[str, dict[str, Sums]] = defaultdict(lambda: defaultdict(dict))
    for budget_id, funder, kind, phase, total in rows.all():
        out[str(budget_id)][str(funder)][(str(kind), str(phase))] = int(total or 0)
    return out


async def usage_mismatches(s: AsyncSession) -> list[tuple[UsageKey, int, int]]:
    """Every running total that differs from the sum of its transfers, as (key, kept,
    recomputed); empty when the books agree. Reads the whole ledger: for checks, not pages."""
    kept = {(str(r[0]), str(r[1]), str(r[2]), str(r[3])): int(r[4]) for r in (await s.execute(
        select(U.c.budget_id, U.c.funder, U.c.kind, U.c.phase, U.c.total_cents))).all()}
    recomputed = {(b, f, k, p): total
                  for b, by_funder in (await usage_sums_from_transfers(s)).items()
                  for f, sums in by_funder.items() for (k, p), total in sums.items()}
    return [(key, kept.get(key, 0), recomputed.get(key, 0))
            for key in sorted(kept.keys() | recomputed.keys())
            if kept.get(key, 0) != recomputed.get(key, 0)]


async def account_mismatches(s: AsyncSession) -> list[tuple[str, Balance, Balance]]:
    """Every account whose totals differ from what its transfers add up to, as (account id,
    kept, recomputed); empty when the books agree. Two grouped reads of the whole ledger: for
    checks, not pages."""
    recomputed: dict[str, Balance] = defaultdict(Balance)
    for side, column in ((0, T.c.debit_account_id), (1, T.c.credit_account_id)):
        rows = await s.execute(select(column, T.c.phase, func.sum(T.c.amount))
                               .group_by(column, T.c.phase))
        for account_id, phase, total in rows.all():
            recomputed[str(account_id)].add(effect(Phase(phase), int(total or 0))[side])
    out = []
    for r in (await s.execute(select(A.c.id, A.c.debits_pending, A.c.debits_posted,
                                      A.c.credits_pending, A.c.credits_posted))).all():
        kept = Balance(int(r[1]), int(r[2]), int(r[3]), int(r[4]))
        should = recomputed.pop(str(r[0]), Balance())
        if vars(kept) != vars(should):
            out.append((str(r[0]), kept, should))
    # transfers naming an account that has no row (the foreign keys refuse it; a check anyway)
    out.extend((i, Balance(), b) for i, b in sorted(recomputed.items()))
    return out


__all__ = ["AlreadyResolved", "InsufficientFunds", "Refs", "TransferKind", "account_mismatches",
           "balances", "open_accounts", "owned", "pending_of", "resolve", "transfer",
           "usage_mismatches", "usage_sums", "usage_sums_from_transfers"]
