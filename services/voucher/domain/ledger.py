"""The ledger's pure rules: accounts, transfers, and what makes a set of transfers valid.

Modelled on TigerBeetle's data model. An account has four integer-cent totals (debits and
credits, each pending and posted). A transfer is immutable: it debits one account and credits
another by a positive amount. A *pending* transfer reserves its amount (it counts against the
debit account at once); it is resolved at most once, by a *post* or a *void* transfer that refers
to it, so no row is ever updated. Transfers written together are linked: all or none.

Accounts whose money must never go below zero carry ``debits_must_not_exceed_credits``: their
pending and posted debits together never exceed their posted credits. Both accounts of a
transfer belong to the same ledger (region, funder), so every cent stays traceable to the funder
that put it in.

The chart of accounts (one account per funder wherever money can sit):

    FUNDER(region, funder)   --funding-->  BUDGET(budget, funder)  (close: back again)
    BUDGET(budget, funder)   --issue---->  VOUCHER(voucher, funder)  (give_back: back again)
    VOUCHER(voucher, funder) --claim---->  PAYABLE(budget, provider, funder)   two-phase
    PAYABLE(...)             --payment-->  CLEARING(region, funder)            two-phase
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property


class AccountKind(StrEnum):
    funder = "funder"  # where a funder's money comes from; its balance goes below zero
    budget = "budget"
    voucher = "voucher"
    payable = "payable"  # approved, owed to a provider
    clearing = "clearing"  # handed to the region's payment system


# Accounts that can never be overdrawn (pending debits included).
LIMITED = frozenset({AccountKind.budget, AccountKind.voucher, AccountKind.payable,
                     AccountKind.clearing})


class TransferKind(StrEnum):
    funding = "funding"  # FUNDER -> BUDGET: a budget opened or topped up
    close = "close"  # BUDGET -> FUNDER: what a closed budget did not commit
    issue = "issue"  # BUDGET -> VOUCHER
    give_back = "give_back"  # VOUCHER -> BUDGET: expiry, cancellation, end of the service
    claim = "claim"  # VOUCHER -> PAYABLE (pending; posted on approval, voided on rejection)
    payment = "payment"  # PAYABLE -> CLEARING (pending; posted when paid, voided on failure)


# Which account kinds each transfer kind debits and credits: anything else is refused.
ROUTES: dict[TransferKind, tuple[AccountKind, AccountKind]] = {
    TransferKind.funding: (AccountKind.funder, AccountKind.budget),
    TransferKind.close: (AccountKind.budget, AccountKind.funder),
    TransferKind.issue: (AccountKind.budget, AccountKind.voucher),
    TransferKind.give_back: (AccountKind.voucher, AccountKind.budget),
    TransferKind.claim: (AccountKind.voucher, AccountKind.payable),
    TransferKind.payment: (AccountKind.payable, AccountKind.clearing),
}

# Only these are two-phase.
TWO_PHASE = frozenset({TransferKind.claim, TransferKind.payment})


class Phase(StrEnum):
    posted = "posted"  # single-phase: posted at once
    pending = "pending"
    post = "post"  # posts the pending transfer named by pending_id
    void = "void"  # voids it


@dataclass(frozen=True)
class AccountRef:
    """An account named by what it is. Its id orders accounts for locking."""

    kind: AccountKind
    region: str
    funder: str
    owner: str = ""  # budget, voucher or "budget/provider" id; empty for funder and clearing

    @cached_property  # asked for many times per transfer (bulk issuance: 10 000s)
    def id(self) -> str:
        return f"{self.kind.value}:{self.region}:{self.funder}:{self.owner}"

    @classmethod
    def parse(cls, account_id: str) -> AccountRef:
        kind, region, funder, owner = account_id.split(":", 3)
        return cls(AccountKind(kind), region, funder, owner)

    @property
    def ledger(self) -> tuple[str, str]:
        return (self.region, self.funder)

    @property
    def limited(self) -> bool:
        return self.kind in LIMITED


def funder_account(region: str, funder: str) -> AccountRef:
    return AccountRef(AccountKind.funder, region, funder)


def budget_account(region: str, funder: str, budget_id: str) -> AccountRef:
    return AccountRef(AccountKind.budget, region, funder, budget_id)


def voucher_account(region: str, funder: str, voucher_id: str) -> AccountRef:
    return AccountRef(AccountKind.voucher, region, funder, voucher_id)


def payable_account(region: str, funder: str, budget_id: str, provider_id: str) -> AccountRef:
    return AccountRef(AccountKind.payable, region, funder, f"{budget_id}/{provider_id}")


def clearing_account(region: str, funder: str) -> AccountRef:
    return AccountRef(AccountKind.clearing, region, funder)


class InvalidTransfer(ValueError):
    pass


@dataclass(frozen=True)
class NewTransfer:
    """A single-phase or pending transfer to be written."""

    debit: AccountRef
    credit: AccountRef
    amount: int
    kind: TransferKind
    pending: bool = False

    def check(self) -> None:
        if self.amount <= 0:
            raise InvalidTransfer("a transfer moves a positive amount of cents")
        if self.debit.id == self.credit.id:
            raise InvalidTransfer("a transfer debits and credits two different accounts")
        if self.debit.ledger != self.credit.ledger:
            raise InvalidTransfer("both accounts of a transfer belong to the same funder ledger")
        if (self.debit.kind, self.credit.kind) != ROUTES[self.kind]:
            raise InvalidTransfer(
                f"a {self.kind.value} transfer goes {ROUTES[self.kind][0].value} -> "
                f"{ROUTES[self.kind][1].value}, not {self.debit.kind.value} -> "
                f"{self.credit.kind.value}")
        if self.pending and self.kind not in TWO_PHASE:
            raise InvalidTransfer(f"a {self.kind.value} transfer is never pending")
        if not self.pending and self.kind in TWO_PHASE:
            raise InvalidTransfer(f"a {self.kind.value} transfer is always two-phase")


@dataclass
class Balance:
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def available(self) -> int:
        """What a limited account can still give: posted credits less every debit."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def add(self, other: Balance) -> None:
        self.debits_pending += other.debits_pending
        self.debits_posted += other.debits_posted
        self.credits_pending += other.credits_pending
        self.credits_posted += other.credits_posted

    def within_limits(self, limited: bool) -> bool:
        totals = (self.debits_pending, self.debits_posted, self.credits_pending,
                  self.credits_posted)
        return all(t >= 0 for t in totals) and (not limited or self.available >= 0)


def effect(phase: Phase, amount: int) -> tuple[Balance, Balance]:
    """What a transfer does to its (debit, credit) accounts."""
    if phase is Phase.posted:
        return Balance(debits_posted=amount), Balance(credits_posted=amount)
    if phase is Phase.pending:
        return Balance(debits_pending=amount), Balance(credits_pending=amount)
    if phase is Phase.post:
        return (Balance(debits_pending=-amount, debits_posted=amount),
                Balance(credits_pending=-amount, credits_posted=amount))
    return Balance(debits_pending=-amount), Balance(credits_pending=-amount)
