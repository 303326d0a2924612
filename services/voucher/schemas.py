"""Request and response bodies of the voucher API. Money is integer euro cents (``*_cents``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from contracts.voucher import Chooser, Outcome, Profile
from kit.text import MULTI_LINE, StrictBool, StrictInt
from services.voucher.domain.issuance import MAX_VALUE_CENTS
from services.voucher.domain.reasons import Cancellation, ClaimRejection, Decline

Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                      r"[0-9a-f]{4}-[0-9a-f]{12}$", max_length=36)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")]
ServiceTypeCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,60}$")]
FunderCode = Annotated[str, StringConstraints(pattern=r"^(region|[0-9]{3})$")]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Milestone = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
# Human text and strict numbers (kit.text): no control, bidirectional-override or invisible
# characters, NFC; no "100" for 100.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000),
                   MULTI_LINE]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), MULTI_LINE]
Cents = Annotated[StrictInt, Field(ge=1, le=MAX_VALUE_CENTS)]
BudgetCents = Annotated[StrictInt, Field(ge=1, le=100_000_000_000)]  # 1 000 M€ per funder and call


T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ budgets


class FunderIn(Strict):
    funder: FunderCode = Field(description='"region", or the code of a municipality of the '
                               "region funding it (the alliance model)")
    amount_cents: BudgetCents


class BudgetIn(Strict):
    service_type: ServiceTypeCode
    period_start: date
    period_end: date
    funders: list[FunderIn] = Field(min_length=1, max_length=50)


class TopUpIn(Strict):
    funder: FunderCode
    amount_cents: BudgetCents
    reason: Reason


class CloseIn(Strict):
    reason: Reason


class FunderUsage(BaseModel):
    """What one funder's money in a budget is doing, computed from the ledger's transfers."""

    funder: str
    funded_cents: int  # put in, less what went back at closing
    committed_cents: int  # on vouchers: issued, less what came back
    spent_cents: int  # approved claims
    pending_cents: int  # claims waiting for a decision
    released_cents: int  # came back from vouchers (expiry, cancellation, end of service)
    available_cents: int  # can still be issued


class BudgetOut(BaseModel):
    id: str
    region: str
    service_type: str
    period_start: date
    period_end: date
    status: str
    version: int
    created_at: datetime
    closed_at: datetime | None
    funders: list[FunderUsage]


# ------------------------------------------------------------------ vouchers


class PersonHolder(Strict):
    kind: Literal["person"]
    henkilotunnus: SecretStr = Field(description="henkilötunnus; validated, keyed and kept "
                                     "only encrypted; never shown again")


class CompanyHolder(Strict):
    kind: Literal["company"]
    business_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class VoucherIn(Strict):
    budget_id: Id
    holder: PersonHolder | CompanyHolder = Field(discriminator="kind")
    value_cents: Cents
    valid_until: date | None = None
    choice_deadline: date | None = None
    home_municipality: MunicipalityCode | None = None
    languages: list[Language] = Field(default_factory=list, max_length=10)
    remote_suits: StrictBool = False
    profile: Profile = Field(default_factory=Profile, description="labour-market profile bands: "
                             "used only to risk-adjust outcome statistics, never shown to "
                             "providers and never used for ranking")


class ScheduledMilestone(BaseModel):
    code: str
    share_bp: int
    amount_cents: int


class ChoiceOut(BaseModel):
    offering_id: str
    provider_id: str
    chosen_by: Chooser
    chosen_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class VoucherOut(BaseModel):
    """A voucher as its viewer may see it: the holder and the region's admins see everything
    but the identity code; the chosen provider sees neither the holder's identity nor the
    profile (``None``)."""

    id: str
    code: str | None
    state: str
    budget_id: str
    region: str
    service_type: str
    holder_kind: str
    holder_business_id: str | None
    home_municipality: str | None
    languages: list[str]
    remote_suits: bool
    profile: Profile | None
    value_cents: int
    co_payment_cents: int
    payment_scheme: list[ScheduledMilestone]
    valid_until: date
    choice_deadline: date
    provider_id: str | None
    offering_id: str | None
    chosen_by: str | None
    started_on: date | None
    completed_on: date | None
    outcome: str | None
    outcome_deadline: date | None
    flag: str | None
    paid_cents: int = Field(description="approved claims (payable or paid)")
    version: int
    issued_at: datetime


class ChoiceIn(Strict):
    offering_id: Id
    reason: Reason | None = Field(default=None, description="required when a region admin "
                                  "chooses on the holder's behalf (audited)")


class EvidenceIn(Strict):
    evidence: Text = ""


class MilestoneIn(Strict):
    milestone: Milestone
    evidence: Text = Field(min_length=1)
    outcome: Outcome | None = Field(default=None, description="for the outcome milestone: "
                                    "employed or studying")


class DeclineIn(Strict):
    reason_code: Decline
    reason: Text = ""


class CancelIn(Strict):
    reason_code: Cancellation
    reason: Reason


class TransferIn(Strict):
    offering_id: Id
    reason: Reason


class RatingIn(Strict):
    stars: StrictInt = Field(ge=1, le=5)
    comment: Text | None = None


class RatingOut(BaseModel):
    voucher_id: str
    provider_id: str
    stars: int
    comment: str | None
    given_at: datetime


# ------------------------------------------------------------------ claims and payments


class ClaimDecisionIn(Strict):
    decision: Literal["approve", "reject"]
    reason_code: ClaimRejection | None = Field(default=None, description="required to reject")
    reason: Text = ""


class ClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    voucher_id: str
    provider_id: str
    region: str
    service_type: str
    milestone: str
    amount_cents: int
    status: str
    evidence: str
    outcome: str | None
    reason_code: str | None
    reason_explained: dict[str, str] | None = None
    reason_text: str
    submitted_at: datetime
    decided_at: datetime | None
    payment_batch_id: str | None
    version: int


class PaymentLine(BaseModel):
    provider_id: str
    funder: str
    amount_cents: int


class PaymentBatchOut(BaseModel):
    id: str
    region: str
    status: str
    claims: int
    total_cents: int
    claim_ids: list[str]
    lines: list[PaymentLine]
    created_at: datetime
    settled_at: datetime | None
    reason: str
    version: int


class BatchFailureIn(Strict):
    reason: Reason


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
