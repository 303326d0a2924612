"""Plain values the matching rules read and return.

Everything here is a frozen dataclass of plain values (str, int, float, date, tuples), so the
service can build them from its read models and the rules stay free of I/O. Band and kind
values are the strings of ``contracts.voucher`` (``UnemploymentBand``, ``EducationBand``,
``EarlierServicesBand``, ``HolderKind``, ``Outcome``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class ProfileBands:
    """The holder's labour-market profile: used only to risk-adjust outcome statistics,
    never to rank providers for a holder."""

    unemployment: str = "unknown"
    education: str = "unknown"
    earlier_services: str = "unknown"


@dataclass(frozen=True, slots=True)
class VoucherView:
    voucher_id: str
    region: str
    service_type: str
    holder_kind: str  # person | company
    home_municipality: str | None  # municipality code; None when the holder gave none
    languages: tuple[str, ...]  # ISO 639-1, the holder's preferred one first
    remote_suits: bool
    value_cents: int
    choice_deadline: date
    profile: ProfileBands = ProfileBands()


@dataclass(frozen=True, slots=True)
class OfferingView:
    offering_id: str
    provider_id: str
    region: str
    service_type: str
    municipalities: tuple[str, ...]
    remote: bool
    languages: tuple[str, ...]
    open_places: int  # capacity less places taken; 0 = full
    price_cents: int  # unit price; the holder pays what exceeds the voucher's value
    next_start: date | None
    approved: bool  # the provider's accreditation in the offering's region is in force


@dataclass(frozen=True, slots=True)
class OutcomeFigure:
    """Risk-adjusted outcome of one provider × service type × region over a window.

    ``shown`` is False below the publication's minimum of starts: then every figure is None
    and only ``starts`` is told ("too few participants")."""

    provider_id: str
    service_type: str
    region: str
    starts: int
    shown: bool
    actual_rate: float | None  # share of starts employed or studying
    expected_rate: float | None  # mean of the holders' expected outcome (comparison model)
    ratio: float | None  # actual ÷ expected, pulled toward 1 by the prior
    ratio_low: float | None  # 95 % interval of the unshrunk ratio
    ratio_high: float | None
    window_start: date
    window_end: date
    publication_id: str


@dataclass(frozen=True, slots=True)
class RatingSummary:
    provider_id: str
    count: int
    mean: float  # 1..5


class ExclusionReason(StrEnum):
    """Why an offering is not recommended for a voucher (the first rule it fails, in this
    order)."""

    other_region = "other_region"
    wrong_service_type = "wrong_service_type"
    not_approved = "not_approved"
    full = "full"
    not_in_area = "not_in_area"
    wrong_language = "wrong_language"


@dataclass(frozen=True, slots=True)
class Factor:
    """One part of a score: ``value`` is the factor's measure in −1..1, ``weight`` its
    points at value 1, ``contribution`` the whole points it adds (round(weight × value))."""

    name: str
    value: float
    weight: int
    contribution: int


@dataclass(frozen=True, slots=True)
class Ranked:
    offering_id: str
    provider_id: str
    score: int  # == sum of the factors' contributions
    factors: tuple[Factor, ...]


@dataclass(frozen=True, slots=True)
class Excluded:
    offering_id: str
    provider_id: str
    reason: ExclusionReason


@dataclass(frozen=True, slots=True)
class Recommendation:
    voucher_id: str
    ranked: tuple[Ranked, ...]  # best first; equal scores in the call's rotation order
    excluded: tuple[Excluded, ...]  # in the order given, cut to ``excluded_limit``
    score_version: str
    data_as_of: date
    eligible_count: int  # all eligible, also when ``ranked`` was cut to a limit
    excluded_count: int = 0  # all excluded, also when ``excluded`` was cut
    excluded_by_reason: tuple[tuple[str, int], ...] = ()  # (reason, count), reasons in order


# ------------------------------------------------------------------ outcome statistics


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One started voucher. ``outcome`` is employed | studying | not_achieved, or None while
    it is not yet definitive (such a record is left out of the figures)."""

    voucher_id: str
    provider_id: str
    service_type: str
    region: str
    holder_kind: str
    profile: ProfileBands
    started_on: date
    outcome: str | None


@dataclass(frozen=True, slots=True)
class ComparisonGroup:
    """The frozen comparison of one region × service type in one publication: the model's
    coefficients (name, value), the records it was fitted on, and the region's figures."""

    region: str
    service_type: str
    coefficients: tuple[tuple[str, float], ...]
    record_ids: tuple[str, ...]
    starts: int
    actual_rate: float
    expected_rate: float
    expected_sd: float  # spread of the holders' expected outcome in the region


@dataclass(frozen=True, slots=True)
class Publication:
    publication_id: str  # a digest of the method, window and record ids
    method_version: str
    window_start: date
    window_end: date  # exclusive
    min_starts: int
    groups: tuple[ComparisonGroup, ...]
    figures: tuple[OutcomeFigure, ...]


@dataclass(frozen=True, slots=True)
class CreamingSignal:
    """A provider whose holders' expected outcome is far above the region's mix."""

    provider_id: str
    service_type: str
    region: str
    starts: int
    provider_expected_rate: float
    region_expected_rate: float
    difference: float
    z: float
    publication_id: str
