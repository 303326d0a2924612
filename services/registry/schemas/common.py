"""Constrained types and texts shared by the registry's bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from kit.text import MULTI_LINE, SINGLE_LINE
from services.registry.domain.calendar import local_date

RegionCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
# Human text (kit.text): no control, bidirectional-override or invisible characters; NFC.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200),
                 SINGLE_LINE]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000),
                   MULTI_LINE]

MAX_PRICE_CENTS = 10_000_000  # 100 000 €: above that a unit price is a typing error
MAX_CAPACITY = 10_000
MAX_DURATION_DAYS = 730


def today() -> date:
    """Today's date in Finland."""
    return local_date(datetime.now(UTC))


ShortStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                     SINGLE_LINE]
LongStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
                    MULTI_LINE]


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


# Response models read the ORM objects (from_attributes); the registry's tables name a
# region ``region_code``, the API ``region``.
FromRegionCode = Field(validation_alias=AliasChoices("region_code", "region"))
