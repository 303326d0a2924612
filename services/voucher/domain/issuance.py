"""Issuance rules: who can hold a voucher, for how much, and until when."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus

MAX_VALUE_CENTS = 10_000_000  # 100 000 €: a voucher above that is a typing error
FUNDER = re.compile(r"^(region|[0-9]{3})$")  # the region itself, or a municipality code
MUNICIPALITY = re.compile(r"^[0-9]{3}$")


class IssuanceRefused(ValueError):
    """A rule refused the request; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def business_id(value: str) -> str:
    """A company holder's Y-tunnus, check digit validated, in its canonical form."""
    try:
        return str(ytunnus.validate(value))
    except (StdnumError, TypeError):
        raise IssuanceRefused("holder.business_id", "is not a valid Y-tunnus") from None


@dataclass(frozen=True)
class Window:
    valid_until: date
    choice_deadline: date


def window(today: date, *, valid_until: date | None, choice_deadline: date | None,
           validity_days: int, choice_days: int) -> Window:
    """The voucher's validity and choice deadline (defaults from the settings); the deadline
    is never after the validity and neither is in the past."""
    until = valid_until or today + timedelta(days=validity_days)
    if until < today:
        raise IssuanceRefused("valid_until", "is in the past")
    deadline = choice_deadline or min(today + timedelta(days=choice_days), until)
    if deadline < today:
        raise IssuanceRefused("choice_deadline", "is in the past")
    if deadline > until:
        raise IssuanceRefused("choice_deadline", "is after valid_until")
    return Window(until, deadline)


def check_value(value_cents: int) -> None:
    if not 0 < value_cents <= MAX_VALUE_CENTS:
        raise IssuanceRefused("value_cents", f"must be between 1 and {MAX_VALUE_CENTS}")


def outcome_deadline(completed_on: date | None, valid_until: date, outcome_days: int) -> date:
    """Until when the outcome of a started voucher can be claimed."""
    return (completed_on or valid_until) + timedelta(days=outcome_days)
