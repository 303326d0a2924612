"""Events published by the voucher service (stream VOUCHER, subjects seteli.voucher.v1.*).

Every aggregate (budget, voucher, claim, payment batch) carries a ``version`` that grows by one
with each change, so a consumer keeps the newest state and ignores a late redelivery of an
older one. Voucher events carry the voucher's whole public picture after the change (the
:class:`VoucherEvent` fields), so a read model can be built from any one of them.

What never crosses this boundary: a henkilötunnus, a person key (a person holder is named by
``holder_ref``, a keyed hash per voucher that only the holder's own login can recompute), the
voucher code, names or contact details of a holder, free-text evidence or comments written by
people. A company holder is named by its Y-tunnus only in the voucher service itself; here it
is ``holder_kind`` alone.

The holder's labour-market profile (:class:`Profile`) is for risk-adjusting outcome statistics
only: never for ranking providers and never shown to them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from contracts.events import EventPayload


class HolderKind(StrEnum):
    person = "person"
    company = "company"


class UnemploymentBand(StrEnum):
    """How long the holder has been unemployed when the voucher is issued."""

    not_unemployed = "not_unemployed"
    under_3_months = "under_3_months"
    from_3_to_12_months = "from_3_to_12_months"
    from_12_to_24_months = "from_12_to_24_months"
    over_24_months = "over_24_months"
    unknown = "unknown"


class EducationBand(StrEnum):
    """Highest completed education, in ISCED 2011 groups (basic: 0–2, upper secondary and
    post-secondary: 3–4, tertiary: 5–8)."""

    basic = "basic"
    upper_secondary = "upper_secondary"
    tertiary = "tertiary"
    unknown = "unknown"


class EarlierServicesBand(StrEnum):
    """Employment services the holder took part in during the three years before issuance."""

    none = "none"
    one_or_two = "one_or_two"
    three_or_more = "three_or_more"
    unknown = "unknown"


class Profile(BaseModel):
    """Labour-market profile bands of a person holder (all ``unknown`` for a company)."""

    unemployment: UnemploymentBand = UnemploymentBand.unknown
    education: EducationBand = EducationBand.unknown
    earlier_services: EarlierServicesBand = EarlierServicesBand.unknown


class Chooser(StrEnum):
    """Who chose the provider of a voucher."""

    holder = "holder"
    admin_on_behalf = "admin_on_behalf"  # a region admin at the holder's request (audited)
    default_assignment = "default_assignment"  # the region's rule, when the holder did not


class Outcome(StrEnum):
    """The definitive outcome of a started voucher."""

    employed = "employed"
    studying = "studying"
    not_achieved = "not_achieved"


class OutcomeSource(StrEnum):
    """Why an outcome became definitive."""

    claim_approved = "claim_approved"  # the provider's outcome claim was approved
    window_elapsed = "window_elapsed"  # no outcome was approved before the outcome deadline
    cancelled = "cancelled"  # the voucher was cancelled after it started


class ReleaseReason(StrEnum):
    """Why a chosen voucher lost its provider before the service started."""

    provider_declined = "provider_declined"
    accreditation_suspended = "accreditation_suspended"
    accreditation_revoked = "accreditation_revoked"
    accreditation_expired = "accreditation_expired"
    offering_withdrawn = "offering_withdrawn"


class VoucherServiceEvent(EventPayload):
    service = "voucher"
    name = "event"


# ------------------------------------------------------------------ budgets


class FunderShare(BaseModel):
    funder: str  # "region" or a municipality code (alliance model), e.g. "837"
    amount_cents: int


class BudgetEvent(VoucherServiceEvent):
    """The state of a budget after a change."""

    budget_id: str
    region: str
    service_type: str
    period_start: date
    period_end: date
    status: str  # open | closed
    funders: list[FunderShare]  # what each funder has put in so far
    total_cents: int
    version: int


class BudgetOpened(BudgetEvent):
    name = "budget.opened"


class BudgetToppedUp(BudgetEvent):
    name = "budget.topped_up"

    funder: str
    amount_cents: int  # this top-up


class BudgetClosed(BudgetEvent):
    name = "budget.closed"


# ------------------------------------------------------------------ vouchers


class VoucherEvent(VoucherServiceEvent):
    """A voucher's public picture after a change. ``provider_id``/``offering_id`` are the
    current choice (None when there is none); ``version`` grows with every change."""

    voucher_id: str
    version: int
    state: str  # issued | chosen | started | completed | expired | cancelled
    budget_id: str
    region: str
    service_type: str
    holder_kind: HolderKind
    home_municipality: str | None = None  # municipality code, e.g. "837"
    languages: list[str] = Field(default_factory=list)  # ISO 639-1, the holder's
    remote_suits: bool = False
    profile: Profile = Field(default_factory=Profile)
    value_cents: int
    valid_until: date
    choice_deadline: date
    provider_id: str | None = None
    offering_id: str | None = None
    # Added in 1.1: the holder, without their person key (kit.persons.holder_ref: HMAC-SHA256
    # keyed by the person key over "seteli-holder-ref:" + voucher_id). None for a company.
    holder_ref: str | None = None


class VoucherIssued(VoucherEvent):
    name = "voucher.issued"


class VoucherProviderChosen(VoucherEvent):
    """A provider was chosen, or the choice was changed (``previous_*`` set)."""

    name = "voucher.provider_chosen"

    chosen_by: Chooser
    previous_provider_id: str | None = None
    previous_offering_id: str | None = None


ASSIGNED_PER_EVENT = 500


class AssignedChoice(BaseModel):
    """One voucher of :class:`VouchersAssigned`: its new ``version`` and choice. Everything
    else of the voucher's picture is as its previous event left it."""

    voucher_id: str
    version: int
    service_type: str
    provider_id: str
    offering_id: str
    previous_provider_id: str | None = None
    previous_offering_id: str | None = None


class VouchersAssigned(VoucherServiceEvent):
    """Default assignments (or region admins' overrides of them) applied together, up to
    ``ASSIGNED_PER_EVENT`` vouchers of one region: each listed voucher is now ``chosen`` with
    ``chosen_by`` = ``default_assignment`` and the listed provider and offering; a voucher with
    ``previous_*`` set gave back a place of that offering. Sent instead of one
    ``voucher.provider_chosen`` per voucher for these choices (a run applies 300 000): a
    consumer applies an entry as it would a ``voucher.provider_chosen`` with these fields, and
    ignores an entry whose ``version`` is not newer than what it has."""

    name = "voucher.vouchers_assigned"

    region: str
    choices: list[AssignedChoice] = Field(min_length=1, max_length=ASSIGNED_PER_EVENT)


class VoucherReleased(VoucherEvent):
    """The chosen provider was taken away before the start: the holder chooses again."""

    name = "voucher.released"

    released_provider_id: str
    released_offering_id: str
    reason: ReleaseReason


class VoucherStarted(VoucherEvent):
    name = "voucher.started"

    started_on: date


class VoucherMilestoneReached(VoucherEvent):
    name = "voucher.milestone_reached"

    milestone: str  # a milestone code of the payment scheme: start | completion | outcome …
    reached_on: date


class VoucherCompleted(VoucherEvent):
    name = "voucher.completed"

    completed_on: date


class VoucherOutcomeRecorded(VoucherEvent):
    """The definitive outcome of a started voucher. Every voucher that started gets exactly one:
    from an approved outcome claim, or ``not_achieved`` when the outcome deadline passes with
    none approved, or when the voucher is cancelled after the start. ``provider_id`` is the
    provider that delivered the service last."""

    name = "voucher.outcome_recorded"

    outcome: Outcome
    source: OutcomeSource
    started_on: date
    completed_on: date | None = None


class VoucherExpired(VoucherEvent):
    name = "voucher.expired"


class VoucherCancelled(VoucherEvent):
    name = "voucher.cancelled"

    reason_code: str


class VoucherTransferred(VoucherEvent):
    """A started voucher moved to another provider: paid milestones stay paid, the rest of the
    value follows the voucher."""

    name = "voucher.transferred"

    from_provider_id: str
    from_offering_id: str


# ------------------------------------------------------------------ claims and payments


class ClaimEvent(VoucherServiceEvent):
    """A claim's state after a change. ``reason_code`` is set when it was rejected."""

    claim_id: str
    voucher_id: str
    provider_id: str
    region: str
    service_type: str
    milestone: str
    amount_cents: int
    status: str  # submitted | approved | rejected | paid
    reason_code: str | None = None
    outcome: Outcome | None = None  # on outcome claims: what the provider reported
    version: int


class ClaimSubmitted(ClaimEvent):
    name = "claim.submitted"


class ClaimApproved(ClaimEvent):
    name = "claim.approved"


class ClaimRejected(ClaimEvent):
    name = "claim.rejected"


class ClaimPaid(ClaimEvent):
    name = "claim.paid"

    payment_batch_id: str


class PaymentBatchEvent(VoucherServiceEvent):
    batch_id: str
    region: str
    status: str  # exported | paid | failed
    claims: int
    total_cents: int
    version: int


class PaymentBatchExported(PaymentBatchEvent):
    name = "payment_batch.exported"


class PaymentBatchPaid(PaymentBatchEvent):
    name = "payment_batch.paid"


class PaymentBatchFailed(PaymentBatchEvent):
    name = "payment_batch.failed"

    reason: str


# ------------------------------------------------------------------ ratings


class RatingGiven(VoucherServiceEvent):
    """The holder of a completed voucher rated its provider (once per voucher). The optional
    comment stays in the voucher service: it is free text written by a person."""

    name = "rating.given"

    voucher_id: str
    provider_id: str
    offering_id: str
    region: str
    service_type: str
    stars: int = Field(ge=1, le=5)


VOUCHER_EVENTS: tuple[type[VoucherEvent], ...] = (
    VoucherIssued, VoucherProviderChosen, VoucherReleased, VoucherStarted,
    VoucherMilestoneReached, VoucherCompleted, VoucherOutcomeRecorded, VoucherExpired,
    VoucherCancelled, VoucherTransferred,
)
