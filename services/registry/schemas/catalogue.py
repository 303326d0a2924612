"""Bodies of regions, municipalities and service types."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from kit.text import StrictInt
from services.registry.schemas.common import ShortText


class MilestoneIn(BaseModel):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,30}$")]
    share_bp: StrictInt = Field(gt=0, le=10_000,
                                description="share of the value in basis points")


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
