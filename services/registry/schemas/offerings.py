"""Bodies of offerings and the search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from kit.pagination import CursorPosition
from kit.text import MULTI_LINE, SINGLE_LINE, StrictBool, StrictInt
from services.registry.domain.calendar import MAX_START_AHEAD_DAYS
from services.registry.domain.languages import ISO_639_1
from services.registry.domain.premises import ACCESSIBILITY
from services.registry.schemas.common import (
    MAX_CAPACITY,
    MAX_DURATION_DAYS,
    MAX_PRICE_CENTS,
    FromRegionCode,
    LongText,
    MunicipalityCode,
    RegionCode,
    ShortText,
    today,
)

Accessibility = Literal["step_free_entrance", "accessible_toilet", "induction_loop", "lift",
                        "accessible_parking"]  # domain/premises.py ACCESSIBILITY
StreetAddress = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                                 max_length=200), SINGLE_LINE]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
PostOffice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                              max_length=100), SINGLE_LINE]
AccessibilityNote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                     max_length=500), MULTI_LINE]
PREMISES = ("street_address", "postcode", "post_office")


class OfferingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode
    service_type: Annotated[str, StringConstraints(max_length=60)]
    title: ShortText
    description: LongText
    remote: StrictBool = Field(default=False, description="delivered remotely (too)")
    municipalities: list[MunicipalityCode] = Field(
        default_factory=list, max_length=100, validate_default=True,
        description="where it is delivered: municipality codes of the region")
    languages: list[str] = Field(min_length=1, max_length=20)
    unit_price_cents: StrictInt = Field(gt=0, le=MAX_PRICE_CENTS)
    capacity: StrictInt = Field(ge=0, le=MAX_CAPACITY)
    next_start: date
    duration_days: StrictInt = Field(gt=0, le=MAX_DURATION_DAYS)
    street_address: StreetAddress | None = Field(
        default=None, description="the premises' street address; with `postcode` and "
        "`post_office`, all three or none (none: given only remotely, or not told)")
    postcode: Postcode | None = Field(default=None, description="five digits")
    post_office: PostOffice | None = None
    accessibility: list[Accessibility] = Field(
        default_factory=list, max_length=10,
        description="what the premises have: step_free_entrance, accessible_toilet, "
        "induction_loop, lift, accessible_parking")
    accessibility_note: AccessibilityNote | None = Field(
        default=None, description="more about the premises' accessibility, at most 500 "
        "characters")
    accepting_new_customers: StrictBool = Field(
        default=True, description="takes new customers now (separate from open places)")

    @field_validator("accessibility")
    @classmethod
    def _once_each(cls, v: list[str]) -> list[str]:
        return sorted(set(v), key=ACCESSIBILITY.index)  # one order: a change is a change

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        out = []
        for code in v:
            code = code.strip().lower()
            if code not in ISO_639_1:
                raise ValueError(f"'{code}' is not an ISO 639-1 language code")
            if code not in out:
                out.append(code)
        return out

    @field_validator("next_start")
    @classmethod
    def _not_past(cls, v: date) -> date:
        if v < today():
            raise ValueError("must be today or later")
        if v > today() + timedelta(days=MAX_START_AHEAD_DAYS):
            raise ValueError(f"must be at most {MAX_START_AHEAD_DAYS} days ahead")
        return v

    @field_validator("municipalities")
    @classmethod
    def _somewhere(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v and info.data.get("remote") is False:
            raise ValueError("give at least one municipality, or remote delivery")
        return v


MAX_IMPORT_ROWS = 500


class OfferingImportIn(BaseModel):
    """Many offerings of one provider, published together or not at all."""

    model_config = ConfigDict(extra="forbid")

    items: list[OfferingIn] = Field(min_length=1, max_length=MAX_IMPORT_ROWS,
                                    description=f"1 to {MAX_IMPORT_ROWS} offerings")


class ImportedRow(BaseModel):
    index: int = Field(description="the row's position in `items`")
    id: str = Field(description="the published offering")
    region: str
    next_start: date


class OfferingImportOut(BaseModel):
    """The report of an import: one row per item, in the order of the request."""

    created: int
    items: list[ImportedRow]


class OfferingOut(BaseModel):
    """An offering as the API shows it; the one list of its public fields (the search selects
    these columns, the events take theirs from it)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    provider_id: str
    provider_name: str
    region: str = FromRegionCode
    service_type: str
    title: dict[str, str | None]
    description: dict[str, str | None]
    municipalities: list[str]
    remote: bool
    languages: list[str]
    unit_price_cents: int
    capacity: int
    next_start: date
    duration_days: int
    status: str
    visible: bool = Field(description="shown in the public search: published, and the provider "
                          "approved in the region")
    street_address: str | None
    postcode: str | None
    post_office: str | None
    accessibility: list[str]
    accessibility_note: str | None
    accepting_new_customers: bool
    version: int
    updated_at: datetime
    details_updated_at: datetime = Field(description="when the title, description, service, "
                                         "languages, price or duration last changed")
    places_updated_at: datetime = Field(description="when the open places, next start or "
                                        "taking new customers last changed")
    premises_updated_at: datetime = Field(description="when the municipalities, remote "
                                          "delivery, address or accessibility last changed")


@dataclass(frozen=True)
class OfferingSearch:
    """What a search of offerings asks for (every filter optional; they combine)."""

    region: str | None = None
    service_type: str | None = None
    municipality: str | None = None
    language: str | None = None
    remote: bool | None = None
    text: str | None = None
    provider_id: str | None = None


class OfferingPage(BaseModel):
    items: list[OfferingOut]
    next_cursor: str | None = None
    total: int = Field(description="the number of matches, counted up to 200: when "
                       "`total_exact` is false there are more than `total`")
    total_exact: bool = Field(description="false: more than `total` matches")


class OfferingPosition(CursorPosition):
    """After the item of order key ``key`` in tier ``tier`` (0: title matches)."""

    tier: int = Field(ge=0, le=1)
    key: int = Field(ge=1, lt=2**63)
