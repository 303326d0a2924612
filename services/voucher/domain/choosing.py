"""What may be chosen, and when a default assignment applies: pure rules over what the
voucher service knows (its voucher row, its replicas of the registry's offerings and
accreditations). The use cases read the rows; these functions decide."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from contracts.voucher import Chooser
from services.voucher.domain.lifecycle import VoucherState


class OfferingLike(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def service_type(self) -> str: ...
    @property
    def accepting_new_customers(self) -> bool | None: ...  # None: not told, taken as yes


class AccreditationLike(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def valid_until(self) -> date | None: ...


class VoucherLike(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def choice_deadline(self) -> date: ...
    @property
    def chosen_by(self) -> str | None: ...
    @property
    def offering_id(self) -> str | None: ...


def not_choosable(o: OfferingLike, acc: AccreditationLike | None, region: str,
                  service_type: str, today: date) -> str | None:
    """Why the offering cannot be chosen for a voucher of ``region`` and ``service_type``
    today (its provider's accreditation in the region is ``acc``); None if it can."""
    if o.status != "published":
        return "the offering has been withdrawn"
    if o.region != region:
        return "the offering is not in the voucher's region"
    if o.service_type != service_type:
        return "the offering is not of the voucher's service type"
    if o.accepting_new_customers is False:
        return "the provider takes no new customers for this offering now"
    if acc is None or acc.state != "approved" or (
            acc.valid_until is not None and acc.valid_until < today):
        return "the provider is not accredited in the voucher's region"
    return None


def assignment_applies(v: VoucherLike, offering_id: str, override: bool, today: date) -> bool:
    """A default assignment applies while the voucher has no provider and its choice deadline
    has passed; an override also replaces an earlier default assignment (never the holder's
    or an admin's own choice)."""
    if v.state == VoucherState.issued:
        return today > v.choice_deadline
    return (override and v.state == VoucherState.chosen
            and v.chosen_by == Chooser.default_assignment
            and v.offering_id != offering_id)


def assignment_skipped(v: VoucherLike | None, region: str, offering_id: str, override: bool,
                       today: date) -> str | None:
    """Why a proposal for voucher ``v`` (of a run in ``region``) is not applied; None if it
    is, as far as the voucher goes (the offering is checked by :func:`not_choosable`)."""
    if v is None:
        return "no such voucher"
    if v.region != region:
        return "the voucher is in another region"
    if assignment_applies(v, offering_id, override, today):
        return None
    if v.state == VoucherState.issued:
        return "the choice deadline has not passed"
    return "the voucher's provider was chosen already"
