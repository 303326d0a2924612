"""Event handlers of the matching service. Each runs inside the inbox transaction of
:class:`kit.consumer.Consumer` (batched: many events in one transaction): it must only write
through the session it is given.

The read models follow each aggregate by version: an event older than the row changes nothing.
Places held on an offering (``OfferingView.taken``) follow the vouchers' states: a voucher holds
a place of its offering while it is chosen or started."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Envelope
from contracts.registry import (
    ACCREDITATION_EVENTS,
    AccreditationEvent,
    OfferingEvent,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    ProviderUpdated,
)
from contracts.voucher import (
    VOUCHER_EVENTS,
    Chooser,
    RatingGiven,
    VoucherEvent,
    VouchersAssigned,
)
from kit.consumer import Consumer
from kit.registry_replica import RegistryReplica
from kit.runtime import Runtime
from services.matching import repository
from services.matching.models import AccreditationView, OfferingView, ProviderView, RatingView
from services.matching.models import VoucherView as VoucherRow

log = structlog.get_logger("matching.consumers")
REGISTRY = RegistryReplica(ProviderView, AccreditationView)
HOLDS_PLACE = frozenset({"chosen", "started"})
CONSUMER_BATCH = 500


async def on_accreditation(s: AsyncSession, envelope: Envelope) -> None:
    await REGISTRY.on_accreditation(s, envelope)
    event = AccreditationEvent.model_validate(envelope.data)
    repository.changed(s, event.region, None)


async def on_provider_updated(s: AsyncSession, envelope: Envelope) -> None:
    """The name follows; the regions the provider serves show it from then on."""
    await REGISTRY.on_provider_updated(s, envelope)
    for region in await repository.regions_of(s, str(envelope.data.get("provider_id"))):
        repository.changed(s, region, None)


async def on_offering(s: AsyncSession, envelope: Envelope) -> None:
    e = OfferingEvent.model_validate(envelope.data)
    row = await s.get(OfferingView, e.offering_id)
    if row is not None and row.version >= e.version:
        return
    if row is None:
        # Voucher events may come first (the streams are consumed independently): count the
        # places its vouchers already hold.
        row = OfferingView(offering_id=e.offering_id,
                           taken=await repository.places_held(s, e.offering_id))
        s.add(row)
    row.provider_id, row.region, row.service_type = e.provider_id, e.region, e.service_type
    row.title = e.title.model_dump(exclude_none=True)
    row.municipalities, row.remote, row.languages = list(e.municipalities), e.remote, list(
        e.languages)
    row.unit_price_cents, row.capacity, row.next_start = (e.unit_price_cents, e.capacity,
                                                          e.next_start)
    row.status, row.version = e.status, e.version
    row.accepting_new_customers = e.accepting_new_customers
    repository.changed(s, e.region, e.service_type)


def _holding(state: str | None, offering_id: str | None) -> str | None:
    return offering_id if state in HOLDS_PLACE else None


async def on_voucher(s: AsyncSession, envelope: Envelope) -> None:
    e = VoucherEvent.model_validate(envelope.data)
    row = await s.get(VoucherRow, e.voucher_id)
    if row is not None and row.version >= e.version:
        return
    before = _holding(row.state, row.offering_id) if row is not None else None
    after = _holding(e.state, e.offering_id)
    if row is None:
        row = VoucherRow(voucher_id=e.voucher_id)
        s.add(row)
    row.version, row.state, row.region, row.service_type = (e.version, e.state, e.region,
                                                            e.service_type)
    row.holder_kind, row.holder_ref = e.holder_kind.value, e.holder_ref
    row.home_municipality, row.languages = e.home_municipality, list(e.languages)
    row.remote_suits, row.profile = e.remote_suits, e.profile.model_dump(mode="json")
    row.value_cents, row.valid_until, row.choice_deadline = (e.value_cents, e.valid_until,
                                                             e.choice_deadline)
    row.provider_id, row.offering_id = e.provider_id, e.offering_id
    data: dict[str, Any] = envelope.data
    if "chosen_by" in data:
        row.chosen_by = data["chosen_by"]
    elif e.offering_id is None:
        row.chosen_by = None
    for name in ("started_on", "completed_on", "outcome"):
        if data.get(name) is not None:
            setattr(row, name, data[name] if name == "outcome" else date.fromisoformat(data[name]))
    if before != after:
        if before is not None:
            await repository.move_place(s, before, -1)
        if after is not None:
            await repository.move_place(s, after, +1)
    repository.changed(s, e.region, e.service_type)


async def on_vouchers(s: AsyncSession, envelopes: list[Envelope]) -> None:
    """A run of voucher events of one type (batched consumer): their rows read at once."""
    held = await repository.load_vouchers(s, sorted({str(e.data.get("voucher_id"))
                                                     for e in envelopes}))
    repository.gather_places(s)
    for envelope in envelopes:
        await on_voucher(s, envelope)
    await repository.apply_places(s)
    del held


async def on_assigned(s: AsyncSession, envelope: Envelope) -> None:
    await on_assigned_many(s, [envelope])


async def on_assigned_many(s: AsyncSession, envelopes: list[Envelope]) -> None:
    """Default assignments applied in the voucher service (``voucher.vouchers_assigned``),
    set-based: each entry changes its voucher's row as a ``voucher.provider_chosen`` would
    (newer version only), the rows read and written in one statement each, the places moved
    per offering."""
    events = [VouchersAssigned.model_validate(e.data) for e in envelopes]
    known = await repository.voucher_choices(s, sorted({c.voucher_id for e in events
                                                        for c in e.choices}))
    rows: dict[str, dict[str, Any]] = {}
    places: Counter[str] = Counter()
    unknown = []
    for e in events:
        for c in e.choices:
            row = known.get(c.voucher_id)
            if row is None:
                unknown.append(c.voucher_id)
                continue
            if row[0] >= c.version:
                continue
            before = _holding(row[1], row[2])
            if before != c.offering_id:
                places[c.offering_id] += 1
                if before is not None:
                    places[before] -= 1
            known[c.voucher_id] = (c.version, "chosen", c.offering_id)
            rows[c.voucher_id] = {"b_voucher_id": c.voucher_id, "b_version": c.version,
                                  "b_state": "chosen", "b_provider_id": c.provider_id,
                                  "b_offering_id": c.offering_id,
                                  "b_chosen_by": Chooser.default_assignment.value}
            repository.changed(s, e.region, c.service_type)
    await repository.set_choices(s, list(rows.values()))
    for offering_id, delta in sorted(places.items()):
        if delta:
            await repository.move_place(s, offering_id, delta)
    if unknown:  # its voucher.issued comes first in the same stream: only if it failed
        log.warning("assigned_voucher_unknown", vouchers=unknown[:20], count=len(unknown))


async def on_rating(s: AsyncSession, envelope: Envelope) -> None:
    e = RatingGiven.model_validate(envelope.data)
    if await s.get(RatingView, e.voucher_id) is None:
        s.add(RatingView(voucher_id=e.voucher_id, provider_id=e.provider_id,
                         offering_id=e.offering_id, region=e.region,
                         service_type=e.service_type, stars=e.stars))
        repository.changed(s, e.region, e.service_type)


def registry_handlers() -> dict[str, Any]:
    offering_events = (OfferingPublished, OfferingUpdated, OfferingWithdrawn)
    return {**REGISTRY.handlers(),
            **{cls.event_type(): on_accreditation for cls in ACCREDITATION_EVENTS.values()},
            **{cls.event_type(): on_offering for cls in offering_events},
            ProviderUpdated.event_type(): on_provider_updated}


def voucher_handlers() -> dict[str, Any]:
    return {**{cls.event_type(): on_voucher for cls in VOUCHER_EVENTS},
            VouchersAssigned.event_type(): on_assigned,
            RatingGiven.event_type(): on_rating}


def specs() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(durable consumer name, stream, handlers, batch handlers) of every consumer."""
    return [("matching-from-registry", "REGISTRY", registry_handlers(), {}),
            ("matching-from-voucher", "VOUCHER", voucher_handlers(),
             {**{cls.event_type(): on_vouchers for cls in VOUCHER_EVENTS},
              VouchersAssigned.event_type(): on_assigned_many})]


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return [rt.consumer(name, stream=stream, handlers=handlers, batched=True,
                        batch=CONSUMER_BATCH, batch_handlers=batch)
            for name, stream, handlers, batch in specs()]
