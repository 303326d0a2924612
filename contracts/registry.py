"""Events published by the registry service (stream REGISTRY, subjects seteli.registry.v1.*)."""

from __future__ import annotations

from contracts.events import EventPayload


class RegistryEvent(EventPayload):
    service = "registry"
    name = "event"


class ProviderApplied(RegistryEvent):
    name = "provider.applied"

    provider_id: str
    business_id: str
    legal_name: str
    regions: list[str]
