"""Money rules: payment schemes, milestone amounts and the paid-never-exceeds-value rule.

Amounts are integer euro cents. Shares are basis points (1/100 of a per cent) so that 33.33 %
is exact; a scheme's shares sum to 10 000. Milestone amounts are rounded down, and the last
milestone takes the remainder, so the amounts always sum to the voucher's value exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

FULL_SHARE_BP = 10_000


@dataclass(frozen=True)
class Milestone:
    code: str  # e.g. "start", "completion", "outcome"
    share_bp: int


class InvalidScheme(ValueError):
    pass


def validate_scheme(milestones: list[Milestone]) -> None:
    if not milestones:
        raise InvalidScheme("a payment scheme needs at least one milestone")
    codes = [m.code for m in milestones]
    if len(set(codes)) != len(codes):
        raise InvalidScheme("milestone codes must be unique")
    if any(m.share_bp <= 0 for m in milestones):
        raise InvalidScheme("every milestone's share must be positive")
    total = sum(m.share_bp for m in milestones)
    if total != FULL_SHARE_BP:
        raise InvalidScheme(f"shares must sum to 100 % (they sum to {total / 100:g} %)")


def milestone_amounts(value_cents: int, milestones: list[Milestone]) -> dict[str, int]:
    """Split ``value_cents`` over the milestones; the amounts sum to exactly ``value_cents``."""
    validate_scheme(milestones)
    if value_cents < 0:
        raise ValueError("value must not be negative")
    amounts: dict[str, int] = {}
    given = 0
    for m in milestones[:-1]:
        amount = value_cents * m.share_bp // FULL_SHARE_BP
        amounts[m.code] = amount
        given += amount
    amounts[milestones[-1].code] = value_cents - given
    return amounts


def co_payment_cents(price_cents: int, value_cents: int) -> int:
    """Omavastuu: what the holder pays when the provider's price exceeds the voucher's value."""
    return max(0, price_cents - value_cents)


def can_pay(value_cents: int, paid_cents: int, amount_cents: int) -> bool:
    """Invariant 2: the sum paid on a voucher never exceeds its value."""
    return amount_cents > 0 and paid_cents + amount_cents <= value_cents


def split(amount_cents: int, weights: dict[str, int]) -> dict[str, int]:
    """Split ``amount_cents`` in proportion to ``weights`` in whole cents by largest remainder
    (Hamilton): each part is the floor of its exact share, and the cents left over go to the
    largest fractional parts (ties: the larger weight, then the key). The parts sum to exactly
    ``amount_cents``; when the weights are what each party still holds and their sum covers the
    amount, no part exceeds its weight."""
    if amount_cents < 0:
        raise ValueError("amount must not be negative")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    total = sum(weights.values())
    if total <= 0:
        if amount_cents:
            raise ValueError("nothing to split by: every weight is zero")
        return dict.fromkeys(weights, 0)
    parts = {k: amount_cents * w // total for k, w in weights.items()}
    left = amount_cents - sum(parts.values())
    order = sorted(weights, key=lambda k: (-(amount_cents * weights[k] % total), -weights[k], k))
    for k in order[:left]:
        parts[k] += 1
    return parts
