"""Bodies of providers, accreditation decisions and the audit log."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
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
from services.registry.domain.calendar import MAX_VALIDITY_DAYS
from services.registry.schemas.common import (
    FromRegionCode,
    LongText,
    Name,
    Phone,
    Reason,
    RegionCode,
    today,
)


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


class ExpiryRun(BaseModel):
    expired: int


class ProviderPosition(CursorPosition):
    after: str = Field(min_length=1, max_length=36)


class AuditPosition(CursorPosition):
    before: int = Field(ge=1, le=2**63 - 1)
