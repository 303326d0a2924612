"""Event handlers of the matching service. Each runs inside the inbox transaction of
:class:`kit.consumer.Consumer`: it must only write through the session it is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import ProviderApplied
from kit.consumer import Consumer
from kit.runtime import Runtime
from services.matching.models import ProviderView


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


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return [
        Consumer(
            name="matching-from-registry",
            stream="REGISTRY",
            handlers={ProviderApplied.event_type(): on_provider_applied},
            db=rt.db,
            tables=rt.tables,
            link=rt.link,
            service=rt.settings.service_name,
            max_deliver=rt.settings.consumer_max_deliver,
            ack_wait=rt.settings.consumer_ack_wait_seconds,
            batch=rt.settings.consumer_batch,
        )
    ]
