"""Request and response bodies of the registry API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from kit.pagination import CursorPosition
from services.registry.domain.accreditation import (
    ADMIN_ACTIONS,
    Action,
    sets_valid_until,
)
from services.registry.domain.business_id import normalise_business_id
from services.registry.domain.calendar import MAX_START_AHEAD_DAYS, MAX_VALIDITY_DAYS, local_date
from services.registry.domain.languages import ISO_639_1

RegionCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]

MAX_PRICE_CENTS = 10_000_000  # 100 000 €: above that a unit price is a typing error
MAX_CAPACITY = 10_000
MAX_DURATION_DAYS = 730


def today() -> date:
    """Today's date in Finland."""
    return local_date(datetime.now(UTC))


ShortStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class ShortText(BaseModel):
    """A name shown to people: Finnish required, at most 200 characters each."""

    model_config = ConfigDict(extra="forbid")
    fi: ShortStr = Field(description="Finnish (required)")
    sv: ShortStr | None = None
    en: ShortStr | None = None


class LongText(BaseModel):
    """A description shown to people: Finnish required, at most 4000 characters each."""

    model_config = ConfigDict(extra="forbid")
    fi: LongStr = Field(description="Finnish (required)")
    sv: LongStr | None = None
    en: LongStr | None = None


Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{5,30}$")]


class ProviderDetails(BaseModel):
    """What a provider tells about itself and may later change."""

    model_config = ConfigDict(extra="forbid")

    legal_name: Name
    contact_name: Name
    contact_email: EmailStr
    phone: Phone | None = None
    website: AnyHttpUrl | None = None
    description: LongText

    @field_validator("website")
    @classmethod
    def _website_length(cls, v: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if v is not None and len(str(v)) > 300:
            raise ValueError("must be at most 300 characters")
        return v


class ProviderApplication(ProviderDetails):
    business_id: str = Field(description="Finnish business ID (Y-tunnus), e.g. 2617416-4")
    regions: list[RegionCode] = Field(min_length=1, max_length=30,
                                      description="the regions applied to, e.g. pirkanmaa")

    @field_validator("business_id")
    @classmethod
    def _business_id(cls, v: str) -> str:
        return normalise_business_id(v)


# Response models read the ORM objects (from_attributes); the registry's tables name a
# region ``region_code``, the API ``region``.
FromRegionCode = Field(validation_alias=AliasChoices("region_code", "region"))


class AccreditationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    region: str = FromRegionCode
    state: str
    valid_until: date | None
    decided_at: datetime
    reason: str
    version: int


class ProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    business_id: str
    legal_name: str
    contact_name: str
    contact_email: str
    phone: str | None
    website: str | None
    description: dict[str, str | None]
    created_at: datetime
    version: int = Field(description="send as If-Match when changing the provider's details")
    accreditations: list[AccreditationOut] = Field(
        default_factory=list, description="those the caller may see")


class ProviderPage(BaseModel):
    items: list[ProviderOut]
    next_cursor: str | None = None


def _admin_action(action: Action) -> Action:
    if action not in ADMIN_ACTIONS:
        raise ValueError(f"must be one of {', '.join(sorted(ADMIN_ACTIONS))}")
    return action


AdminAction = Annotated[
    Action, AfterValidator(_admin_action),
    WithJsonSchema({"type": "string", "enum": sorted(ADMIN_ACTIONS)}),
]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: AdminAction
    reason: Reason
    valid_until: date | None = Field(
        default=None, validate_default=True,
        description="required when approving or renewing: a date in the future, at most "
        f"{MAX_VALIDITY_DAYS} days ahead; the accreditation holds through that day"
    )

    @field_validator("valid_until")
    @classmethod
    def _valid_until(cls, v: date | None, info: ValidationInfo) -> date | None:
        decision = info.data.get("decision")
        if decision is None:
            return v  # the decision itself is wrong: that error is enough
        if sets_valid_until(decision):
            if v is None:
                raise ValueError(f"is required to {decision}")
            if v <= today():
                raise ValueError("must be in the future")
            if v > today() + timedelta(days=MAX_VALIDITY_DAYS):
                raise ValueError(f"may be at most {MAX_VALIDITY_DAYS} days ahead")
        elif v is not None:
            raise ValueError(f"belongs only to approve and renew, not to {decision}")
        return v


class RegionApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    region: str | None
    reason: str
    details: dict[str, object]


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None = None


class MilestoneIn(BaseModel):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,30}$")]
    share_bp: int = Field(gt=0, le=10_000, description="share of the value in basis points")


class ServiceTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{2,59}$")]
    name: ShortText
    payment_scheme: list[MilestoneIn] = Field(min_length=1, max_length=6)

    @field_validator("payment_scheme")
    @classmethod
    def _sums_to_100(cls, v: list[MilestoneIn]) -> list[MilestoneIn]:
        if len({m.code for m in v}) != len(v):
            raise ValueError("milestone codes must be unique")
        total = sum(m.share_bp for m in v)
        if total != 10_000:
            raise ValueError(f"shares must sum to 10000 basis points (100 %), not {total}")
        return v


class ServiceTypeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: dict[str, str | None]
    payment_scheme: list[MilestoneIn]


class MunicipalityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: dict[str, str]


class RegionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: dict[str, str]
    municipalities: list[MunicipalityOut]


class OfferingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode
    service_type: Annotated[str, StringConstraints(max_length=60)]
    title: ShortText
    description: LongText
    remote: bool = Field(default=False, description="delivered remotely (too)")
    municipalities: list[MunicipalityCode] = Field(
        default_factory=list, max_length=100, validate_default=True,
        description="where it is delivered: municipality codes of the region")
    languages: list[str] = Field(min_length=1, max_length=20)
    unit_price_cents: int = Field(gt=0, le=MAX_PRICE_CENTS)
    capacity: int = Field(ge=0, le=MAX_CAPACITY)
    next_start: date
    duration_days: int = Field(gt=0, le=MAX_DURATION_DAYS)

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
    version: int
    updated_at: datetime


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
    total: int


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the secret key; shown only in this response")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None


class VerifyIn(BaseModel):
    api_key: Annotated[str, StringConstraints(max_length=4096)] = Field(
        description="the key as the caller presented it; anything malformed is simply unknown")


class VerifyOut(BaseModel):
    provider_id: str
    key_id: str
    prefix: str


class ExpiryRun(BaseModel):
    expired: int


# Positions in the lists, carried by their signed cursors (kit.pagination).


class ProviderPosition(CursorPosition):
    after: str = Field(min_length=1, max_length=36)


class AuditPosition(CursorPosition):
    before: int = Field(ge=1, le=2**63 - 1)


class OfferingPosition(CursorPosition):
    start: date
    id: str = Field(min_length=1, max_length=36)
