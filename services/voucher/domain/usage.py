"""Usage of money computed from transfers alone (never from counters kept beside them).

Given the sums of transfer amounts by (kind, phase), :func:`usage` says what a funder's money
in a budget (or a region, a provider, a period) is doing. The identity
``funded = available + committed + spent`` holds for any set of whole budgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.voucher.domain.ledger import Phase, TransferKind

Sums = dict[tuple[str, str], int]  # (kind, phase) -> cents


@dataclass(frozen=True)
class Usage:
    funded: int  # put in by funders, less what went back when budgets closed
    issued: int  # moved onto vouchers
    released: int  # came back from vouchers (expiry, cancellation, end of service)
    spent: int  # approved claims (posted)
    pending: int  # claims waiting for a decision
    paid: int  # payments the region confirmed
    in_payment: int  # payments exported, not yet confirmed

    @property
    def committed(self) -> int:
        """Still on vouchers (including claims waiting for a decision)."""
        return self.issued - self.released - self.spent

    @property
    def available(self) -> int:
        return self.funded - self.issued + self.released


def usage(sums: Sums) -> Usage:
    def get(kind: TransferKind, phase: Phase) -> int:
        return sums.get((kind.value, phase.value), 0)

    def unresolved(kind: TransferKind) -> int:
        return get(kind, Phase.pending) - get(kind, Phase.post) - get(kind, Phase.void)

    return Usage(
        funded=get(TransferKind.funding, Phase.posted) - get(TransferKind.close, Phase.posted),
        issued=get(TransferKind.issue, Phase.posted),
        released=get(TransferKind.give_back, Phase.posted),
        spent=get(TransferKind.claim, Phase.post),
        pending=unresolved(TransferKind.claim),
        paid=get(TransferKind.payment, Phase.post),
        in_payment=unresolved(TransferKind.payment),
    )
