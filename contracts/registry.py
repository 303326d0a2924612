"""Events published by the registry service (stream REGISTRY, subjects seteli.registry.v1.*).

Aggregates carry a ``version`` that grows with every change, so that a consumer can ignore an
event older than what it already holds (events of one aggregate may be redelivered late).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, model_validator

from contracts.events import EventPayload


class LocalizedText(BaseModel):
    """Text shown to people: Finnish required, Swedish and English optional."""

    fi: str
    sv: str | None = None
    en: str | None = None


class PaymentMilestone(BaseModel):
    code: str  # start | completion | outcome | …
    share_bp: int  # basis points of the voucher value; a scheme sums to 10 000


class RegistryEvent(EventPayload):
    service = "registry"
    name = "event"


class ProviderUpdated(RegistryEvent):
    """The provider changed its public details (name, contact, description)."""

    name = "provider.updated"

    provider_id: str
    business_id: str
    legal_name: str
    version: int


class AccreditationEvent(RegistryEvent):
    """A change of one provider's accreditation in one region."""

    provider_id: str
    region: str
    state: str  # applied | approved | rejected | suspended | revoked | expired
    valid_until: date | None = None
    reason: str = ""
    version: int = 1
    business_id: str = ""
    legal_name: str = ""


class ProviderApplied(AccreditationEvent):
    """A provider applied in a region for the first time: the first version (state
    ``applied``) of that region's accreditation. Since 1.1 one event per region, with the
    region in ``region`` and ``regions == [region]``; a 1.0 event lists in ``regions`` every
    region of one application. ``regions`` never is the provider's whole set of regions: a
    consumer that wants it keeps it from the accreditation events. Applying again after a
    rejection or expiry is ``provider.reapplied``."""

    name = "provider.applied"

    region: str = ""
    state: str = "applied"
    business_id: str
    legal_name: str
    regions: list[str] = []

    @model_validator(mode="after")
    def _one_spelling(self) -> ProviderApplied:
        if not self.regions and self.region:
            self.regions = [self.region]
        if not self.region and len(self.regions) == 1:
            self.region = self.regions[0]
        if not self.regions:
            raise ValueError("an application names its region")
        return self


class ProviderAccredited(AccreditationEvent):
    name = "provider.accredited"


class ProviderRejected(AccreditationEvent):
    name = "provider.rejected"


class ProviderSuspended(AccreditationEvent):
    name = "provider.suspended"


class ProviderReinstated(AccreditationEvent):
    name = "provider.reinstated"


class ProviderRevoked(AccreditationEvent):
    name = "provider.revoked"


class ProviderExpired(AccreditationEvent):
    name = "provider.expired"


class ProviderReapplied(AccreditationEvent):
    name = "provider.reapplied"


ACCREDITATION_EVENTS: dict[str, type[AccreditationEvent]] = {
    cls.name: cls
    for cls in (ProviderApplied, ProviderAccredited, ProviderRejected, ProviderSuspended,
                ProviderReinstated, ProviderRevoked, ProviderExpired, ProviderReapplied)
}


class OfferingEvent(RegistryEvent):
    """The full public state of an offering after a change."""

    offering_id: str
    provider_id: str
    region: str
    service_type: str
    title: LocalizedText
    municipalities: list[str]
    remote: bool
    languages: list[str]
    unit_price_cents: int
    capacity: int
    next_start: date
    duration_days: int
    status: str  # published | withdrawn
    version: int
    # Added in 1.1. Whether the offering can be chosen also depends on the provider's
    # accreditation in the region: follow the accreditation events for that.
    description: LocalizedText | None = None
    # Added in 1.2: the premises (none: only remote, or not told), their accessibility, whether
    # new customers are taken now (None in older events: not known) and when each part of the
    # offering last changed.
    street_address: str | None = None
    postcode: str | None = None
    post_office: str | None = None
    accessibility: list[str] = []
    accessibility_note: str | None = None
    accepting_new_customers: bool | None = None
    details_updated_at: datetime | None = None
    places_updated_at: datetime | None = None
    premises_updated_at: datetime | None = None


class OfferingPublished(OfferingEvent):
    name = "offering.published"


class OfferingUpdated(OfferingEvent):
    name = "offering.updated"


class OfferingWithdrawn(OfferingEvent):
    name = "offering.withdrawn"


class ServiceTypeAdded(RegistryEvent):
    name = "service_type.added"

    code: str
    names: LocalizedText
    payment_scheme: list[PaymentMilestone]
