"""Request and response bodies of the registry API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from services.registry.domain.business_id import normalise_business_id

RegionCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")]


class ProviderApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_id: str = Field(description="Finnish business ID (Y-tunnus), e.g. 2617416-4")
    legal_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)
    ]
    contact_email: EmailStr
    regions: list[RegionCode] = Field(min_length=1, max_length=30)

    @field_validator("business_id")
    @classmethod
    def _business_id(cls, v: str) -> str:
        return normalise_business_id(v)


class ProviderOut(BaseModel):
    id: str
    business_id: str
    legal_name: str
    contact_email: str
    regions: list[str]
    created_at: datetime
    version: int


class ProviderPage(BaseModel):
    items: list[ProviderOut]
    next_cursor: str | None = None
