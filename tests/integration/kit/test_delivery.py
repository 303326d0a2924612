"""Inbox and dead letters: a redelivered event is applied once; a poison event goes to the
dead-letter subject after max_deliver and the consumer carries on (the probe service of
tests/probe consumes, so that no service's read model is tied to these tests)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import nats
import pytest

from contracts.events import Envelope
from contracts.registry import ProviderApplied
from tests.probe import CONSUMER, Settings, counts, create_app
from tests.support import DbFactory, eventually, running, service_settings


def probe_settings(db: DbFactory, nats_url: str, **over: Any) -> Settings:
    return service_settings(Settings, db.new("probe"), nats_url, **over)


async def publish(nats_url: str, envelope: Envelope | dict[str, Any], subject: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        raw = envelope.model_dump_json() if isinstance(envelope, Envelope) else json.dumps(envelope)
        # A fresh Nats-Msg-Id each time: JetStream stores both copies, the inbox must dedupe.
        await js.publish(subject, raw.encode(), headers={"Nats-Msg-Id": uuid.uuid4().hex})
    finally:
        await nc.close()


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            got = line[len(name) + 1 : line.index("}")]
            if ",".join(sorted(got.split(","))) == want:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


async def counters(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    labels = {"service": "probe", "consumer": CONSUMER}
    return {
        "applied": metric(text, "seteli_events_applied_total", **labels),
        "duplicate": metric(text, "seteli_events_duplicate_total", **labels),
        "dead": metric(text, "seteli_dead_letters_total", **labels),
    }


def applied_event(name: str = "Kasvu Oy") -> Envelope:
    return ProviderApplied(
        provider_id=str(uuid.uuid4()), business_id="1234567-1", legal_name=name,
        regions=["pirkanmaa"],
    ).envelope()


async def test_redelivered_event_changes_read_model_once(db: DbFactory, clean_nats: str) -> None:
    app = create_app(probe_settings(db, clean_nats))
    async with running(app) as client:
        before = await counters(client)
        event = applied_event()
        await publish(clean_nats, event, ProviderApplied.subject())
        await publish(clean_nats, event, ProviderApplied.subject())

        async def settled() -> bool:
            c = await counters(client)
            return c["applied"] - before["applied"] == 1 and (
                c["duplicate"] - before["duplicate"] == 1
            )

        await eventually(settled, what="one applied, one skipped as duplicate")
        rows = await counts(app.state.runtime.db)
        assert (rows["recorded"], rows["inbox"]) == (1, 1)


async def test_poison_event_is_dead_lettered_and_consumer_continues(
    db: DbFactory, clean_nats: str
) -> None:
    app = create_app(probe_settings(db, clean_nats, consumer_max_deliver=3))
    async with running(app) as client:
        before = await counters(client)
        poison = applied_event().model_dump(mode="json")
        del poison["data"]["provider_id"]
        await publish(clean_nats, poison, ProviderApplied.subject())
        good = applied_event("Hyvä Oy")
        await publish(clean_nats, good, ProviderApplied.subject())

        async def dead_lettered() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (await client.get("/ops/dead-letters")).json()["items"]
            return items

        items = await eventually(dead_lettered, timeout=20, what="dead letter recorded")
        assert len(items) == 1
        assert items[0]["event_id"] == poison["id"]
        assert items[0]["deliveries"] == 3
        assert "provider_id" in items[0]["error"]

        async def good_applied() -> bool:
            return (await counts(app.state.runtime.db))["recorded"] == 1

        await eventually(good_applied, what="later good event applied")
        after = await counters(client)
        assert after["dead"] - before["dead"] == 1

        # The dead letter is also on the DEADLETTER stream, exactly once.
        nc = await nats.connect(clean_nats)
        try:
            js = nc.jetstream()

            async def on_stream() -> int:
                info = await js.stream_info("DEADLETTER")
                return int(info.state.messages)

            assert await eventually(on_stream, what="dead letter published") == 1
            msg = await js.get_last_msg("DEADLETTER", f"seteli.deadletter.probe.{CONSUMER}")
            body = json.loads(msg.data or b"{}")
            assert body["type"] == "fi.seteli.deadletter.v1"
            assert body["data"]["event_id"] == poison["id"]
        finally:
            await nc.close()

        assert (await counts(app.state.runtime.db))["inbox"] == 1  # only the good event


@pytest.mark.parametrize("garbage", [b"not json at all", b'{"id": "x"}'])
async def test_unreadable_message_is_dead_lettered(
    db: DbFactory, clean_nats: str, garbage: bytes
) -> None:
    app = create_app(probe_settings(db, clean_nats, consumer_max_deliver=2))
    async with running(app) as client:
        nc = await nats.connect(clean_nats)
        try:
            await nc.jetstream().publish(ProviderApplied.subject(), garbage)
        finally:
            await nc.close()

        async def dead() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (await client.get("/ops/dead-letters")).json()["items"]
            return items

        items = await eventually(dead, timeout=20, what="unreadable message dead-lettered")
        assert items[0]["event_id"].startswith("stream-seq-")
