"""Request and response bodies of the matching service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.registry import LocalizedText
from kit.pagination import CursorPosition
from kit.text import HumanParagraph, StrictInt


class FactorOut(BaseModel):
    name: str = Field(description="outcome | rating | distance | language | co_payment | "
                      "next_start")
    value: float = Field(description="the factor's measure, −1..1")
    weight: int = Field(description="points at value 1")
    contribution: int = Field(description="round(weight × value); the contributions of a "
                              "result sum to its score")


class RankedOut(BaseModel):
    rank: int
    offering_id: str
    provider_id: str
    provider_name: str | None
    title: dict[str, str] | None
    score: int
    factors: list[FactorOut]


class ExcludedOut(BaseModel):
    offering_id: str
    provider_id: str
    reason: str = Field(description="other_region | wrong_service_type | not_approved | full "
                        "| not_in_area | wrong_language")


class RecommendationOut(BaseModel):
    voucher_id: str
    score_version: str
    data_as_of: date = Field(description="the date the read model and figures were read")
    eligible_count: int
    offset: int = Field(description="the position of this page's first result in the ranked "
                        "list followed by the excluded list")
    limit: int = Field(description="results and excluded offerings on this page at most")
    items: list[RankedOut] = Field(description="best first from `offset`; equal scores in the "
                                   "voucher's own rotation (the same on every request and "
                                   "page), never by name")
    excluded_count: int
    excluded_by_reason: dict[str, int]
    excluded: list[ExcludedOut] = Field(description="the excluded offerings that continue the "
                                        "ranked list on this page: the page's places left "
                                        "after `items` (none until the ranked list ends)")


# ------------------------------------------------------------------ statistics


class PublicationOut(BaseModel):
    publication_id: str
    method_version: str
    window_start: date
    window_end: date = Field(description="exclusive")
    min_starts: int
    published_at: datetime
    groups: int
    figures: int


class FigureOut(BaseModel):
    provider_id: str
    service_type: str
    region: str
    too_few_participants: bool = Field(description="fewer starts than the minimum: no figure "
                                       "and no count is shown")
    starts: int | None
    actual_rate: float | None
    expected_rate: float | None
    ratio: float | None = Field(description="actual ÷ expected, pulled toward 1 when numbers "
                                "are small")
    ratio_low: float | None
    ratio_high: float | None


class StatisticsList(BaseModel):
    publication: PublicationOut | None
    items: list[FigureOut]


class RatingOut(BaseModel):
    provider_id: str
    service_type: str
    region: str
    count: int = Field(description="holders' ratings of completed vouchers")
    mean: float | None = Field(description="mean stars (1–5), rounded to one decimal; none "
                               "below `min_count` ratings")


class RatingList(BaseModel):
    min_count: int = Field(description="the fewest ratings whose mean is shown")
    items: list[RatingOut]


class CreamingOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    provider_id: str
    service_type: str
    region: str
    starts: int
    provider_expected_rate: float
    region_expected_rate: float
    difference: float
    z: float


class CreamingList(BaseModel):
    publication: PublicationOut | None
    items: list[CreamingOut]


# ------------------------------------------------------------------ assignment runs


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: StrictInt | None = Field(default=None, ge=0, le=2**31 - 1,
                             description="the run's seed; a random one is drawn and recorded "
                             "when absent. The same seed on the same data gives the same "
                             "assignment")
    share_cap: float | None = Field(default=None, gt=0, le=1,
                                    description="the largest share of the run's vouchers one "
                                    "provider may get (default: the service's setting)")


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voucher_id: str = Field(min_length=1, max_length=36)
    offering_id: str = Field(min_length=1, max_length=36)
    reason: HumanParagraph = Field(min_length=3, max_length=2000)


class RunOut(BaseModel):
    run_id: str
    region: str
    seed: int
    score_version: str
    status: str
    as_of: date
    created_at: datetime
    finished_at: datetime | None
    inputs: dict[str, Any]
    summary: dict[str, Any]


class OverrideOut(BaseModel):
    run_id: str
    voucher_id: str
    offering_id: str
    provider_id: str
    reason: str
    explanation: LocalizedText
    created_at: datetime


class RunPosition(CursorPosition):
    """The runs of a region, newest first: the last run of the previous page."""

    created_at: datetime
    run_id: str = Field(min_length=1, max_length=36)


class RunList(BaseModel):
    items: list[RunOut] = Field(description="newest first")
    next_cursor: str | None


class ProposalPosition(CursorPosition):
    """A run's proposals in voucher id order: the last voucher id of the previous page."""

    voucher_id: str = Field(min_length=1, max_length=36)


class ProposalOut(BaseModel):
    voucher_id: str
    status: str = Field(description="first_candidate | first_was_full | "
                        "first_provider_capped | equal_score | fixed | no_candidates | "
                        "all_full | providers_capped")
    offering_id: str | None = Field(description="none: not assigned (see `status`)")
    offering_title: dict[str, str] | None
    provider_id: str | None
    provider_name: str | None
    rank: int | None = Field(description="the offering's place in the voucher's own ranking "
                             "(1 = its best candidate); none for an override")
    score: float | None
    override: bool = Field(description="set by a region admin; kept by every later run")
    override_reason: str | None = Field(description="the admin's reason, for an override")
    explanation: LocalizedText = Field(description="in the words the holder reads, e.g. "
                                       "\"your 2nd candidate; the 1st was full\"")
    home_municipality: str | None
    holder_kind: str | None


class ProposalList(BaseModel):
    items: list[ProposalOut] = Field(description="in voucher id order")
    next_cursor: str | None


class VoucherAssignmentOut(BaseModel):
    """A voucher's latest default assignment, as its holder reads it."""

    voucher_id: str
    run_id: str
    assigned_at: datetime = Field(description="when the run was made")
    status: str = Field(description="as in a run's proposals")
    offering_id: str | None = Field(description="none: the run could not assign one")
    offering_title: dict[str, str] | None
    provider_id: str | None
    provider_name: str | None
    rank: int | None
    override: bool = Field(description="set by a region admin")
    explanation: LocalizedText
