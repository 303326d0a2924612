"""The registry's problem types (RFC 9457 ``type``): each refusal of the registry that a client
may act on has its own class here, raised by the use cases."""

from __future__ import annotations

from kit.errors import Conflict


class DuplicateBusinessId(Conflict):
    type = "/problems/duplicate-business-id"

    def __init__(self, business_id: str) -> None:
        super().__init__(f"a provider with business ID {business_id} has already applied")


class IllegalTransition(Conflict):
    type = "/problems/illegal-transition"


class DuplicateServiceType(Conflict):
    type = "/problems/duplicate-service-type"

    def __init__(self, code: str) -> None:
        super().__init__(f"service type '{code}' exists already")


class NotAccredited(Conflict):
    type = "/problems/not-accredited"

    def __init__(self, region: str) -> None:
        super().__init__(f"the provider is not accredited in region '{region}'")


class OfferingWithdrawn(Conflict):
    type = "/problems/offering-withdrawn"
