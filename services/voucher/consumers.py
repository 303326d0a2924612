"""Event handlers of the voucher service. Each runs inside the inbox transaction of
:class:`kit.consumer.Consumer`: it must only write through the session it is given."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import OfferingEvent, OfferingPublished, OfferingUpdated, OfferingWithdrawn
from kit.consumer import Consumer
from kit.registry_replica import RegistryReplica, apply_newer
from kit.runtime import Runtime
from services.voucher.models import AccreditationView, OfferingView, ProviderView

REGISTRY = RegistryReplica(ProviderView, AccreditationView)
# The offering's fields the view keeps: its own columns.
OFFERING_FIELDS = frozenset(OfferingView.__table__.columns.keys()) - {"offering_id", "version"}


async def on_offering(s: AsyncSession, envelope: Envelope) -> None:
    """Newest version wins: a late redelivery of an older state changes nothing."""
    event = OfferingEvent.model_validate(envelope.data)
    await apply_newer(s, OfferingView, {"offering_id": event.offering_id}, event.version,
                      event.model_dump(include=set(OFFERING_FIELDS)))


def consumers(rt: Runtime) -> Sequence[Consumer]:
    offering_events = (OfferingPublished, OfferingUpdated, OfferingWithdrawn)
    return [rt.consumer("voucher-from-registry", stream="REGISTRY", handlers={
        **REGISTRY.handlers(), **{cls.event_type(): on_offering for cls in offering_events}})]
