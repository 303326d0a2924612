"""Event handlers of the voucher service. Each runs inside the inbox transaction of
:class:`kit.consumer.Consumer`: it must only write through the session it is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import (
    ACCREDITATION_EVENTS,
    AccreditationEvent,
    OfferingEvent,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    ProviderApplied,
)
from kit.consumer import Consumer
from kit.runtime import Runtime
from services.voucher.models import AccreditationView, OfferingView, ProviderView


async def on_provider_applied(s: AsyncSession, envelope: Envelope) -> None:
    event = ProviderApplied.model_validate(envelope.data)
    view = await s.get(ProviderView, event.provider_id)
    if view is None:
        view = ProviderView(provider_id=event.provider_id, status="applied")
        s.add(view)
    view.business_id = event.business_id
    view.legal_name = event.legal_name
    view.regions = event.regions
    view.updated_at = datetime.now(UTC)


async def on_accreditation(s: AsyncSession, envelope: Envelope) -> None:
    """Newest version wins: a late redelivery of an older decision changes nothing."""
    event = AccreditationEvent.model_validate(envelope.data)
    view = await s.get(AccreditationView, (event.provider_id, event.region))
    if view is not None and view.version >= event.version:
        return
    if view is None:
        view = AccreditationView(provider_id=event.provider_id, region=event.region)
        s.add(view)
    view.state = event.state
    view.valid_until = event.valid_until
    view.version = event.version


async def on_offering(s: AsyncSession, envelope: Envelope) -> None:
    event = OfferingEvent.model_validate(envelope.data)
    view = await s.get(OfferingView, event.offering_id)
    if view is not None and view.version >= event.version:
        return
    if view is None:
        view = OfferingView(offering_id=event.offering_id)
        s.add(view)
    view.provider_id = event.provider_id
    view.region = event.region
    view.service_type = event.service_type
    view.municipalities = event.municipalities
    view.remote = event.remote
    view.languages = event.languages
    view.unit_price_cents = event.unit_price_cents
    view.capacity = event.capacity
    view.next_start = event.next_start
    view.status = event.status
    view.version = event.version


HANDLERS = {
    ProviderApplied.event_type(): on_provider_applied,
    **{cls.event_type(): on_accreditation for cls in ACCREDITATION_EVENTS.values()},
    **{cls.event_type(): on_offering
       for cls in (OfferingPublished, OfferingUpdated, OfferingWithdrawn)},
}


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return [
        Consumer(
            name="voucher-from-registry",
            stream="REGISTRY",
            handlers=HANDLERS,
            db=rt.db,
            tables=rt.tables,
            link=rt.link,
            service=rt.settings.service_name,
            max_deliver=rt.settings.consumer_max_deliver,
            ack_wait=rt.settings.consumer_ack_wait_seconds,
            batch=rt.settings.consumer_batch,
        )
    ]
