"""Event handlers of the voucher service. Each runs inside the inbox transaction of
:class:`kit.consumer.Consumer`: it must only write through the session it is given."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.matching import AssignmentProposals, AssignmentProposed
from contracts.registry import (
    ACCREDITATION_EVENTS,
    AccreditationEvent,
    OfferingEvent,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    ServiceTypeAdded,
)
from kit.consumer import Consumer
from kit.registry_replica import RegistryReplica, apply_newer
from kit.runtime import Runtime
from services.voucher.models import AccreditationView, OfferingView, ProviderView, ServiceTypeView
from services.voucher.use_cases import assignments, lifecycle

REGISTRY = RegistryReplica(ProviderView, AccreditationView)
# The offering's fields the view keeps: its own columns.
OFFERING_FIELDS = frozenset(OfferingView.__table__.columns.keys()) - {"offering_id", "version"}


async def on_offering(s: AsyncSession, envelope: Envelope) -> None:
    """Newest version wins: a late redelivery of an older state changes nothing. A withdrawn
    offering releases the vouchers that chose it and have not started."""
    event = OfferingEvent.model_validate(envelope.data)
    applied = await apply_newer(s, OfferingView, {"offering_id": event.offering_id},
                                event.version, event.model_dump(include=set(OFFERING_FIELDS)))
    if applied and event.status == "withdrawn":
        await lifecycle.offering_withdrawn(s, event.offering_id)


async def on_accreditation(s: AsyncSession, envelope: Envelope) -> None:
    """The replica follows the event; then, if the provider may no longer serve in the region
    (as the replica now says: a late older event changes nothing), its chosen vouchers there
    are released and its started ones flagged."""
    await REGISTRY.on_accreditation(s, envelope)
    event = AccreditationEvent.model_validate(envelope.data)
    view = await s.get(AccreditationView, (event.provider_id, event.region))
    if view is not None and view.version == event.version:
        await lifecycle.provider_lost(s, event.provider_id, event.region, view.state)


async def on_service_type(s: AsyncSession, envelope: Envelope) -> None:
    """The catalogue only grows: a type's payment scheme is copied onto vouchers issued after."""
    event = ServiceTypeAdded.model_validate(envelope.data)
    view = await s.get(ServiceTypeView, event.code)
    if view is None:
        view = ServiceTypeView(code=event.code)
        s.add(view)
    view.names = event.names.model_dump(exclude_none=True)
    view.payment_scheme = [m.model_dump() for m in event.payment_scheme]


def consumers(rt: Runtime) -> Sequence[Consumer]:
    offering_events = (OfferingPublished, OfferingUpdated, OfferingWithdrawn)
    return [rt.consumer("voucher-from-registry", stream="REGISTRY", handlers={
        **REGISTRY.handlers(),
        **{cls.event_type(): on_accreditation for cls in ACCREDITATION_EVENTS.values()},
        **{cls.event_type(): on_offering for cls in offering_events},
        ServiceTypeAdded.event_type(): on_service_type}),
        # Default assignments proposed by matching: many at once, applied in batches.
        # (a fetch of 8 events: up to 4 000 proposals in one transaction).
        rt.consumer("voucher-from-matching", stream="MATCHING", handlers={
            AssignmentProposed.event_type(): assignments.apply_proposal,
            AssignmentProposals.event_type(): assignments.apply_chunk},
            batch_handlers={AssignmentProposed.event_type(): assignments.apply_proposals,
                            AssignmentProposals.event_type(): assignments.apply_chunks},
            batched=True, batch=8)]
