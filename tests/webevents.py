"""Events put on the web stack's broker as another service would publish them: a voucher whose
choice deadline has passed (issuance never sets one in the past, so a default assignment has
nothing to do on a fresh stack), and a poison event that a consumer dead-letters."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import nats
import orjson

from contracts.voucher import VoucherIssued
from tests.webstack import WebStack


def publish(stack: WebStack, subject: str, data: bytes) -> None:
    async def send() -> None:
        nc = await nats.connect(stack.services["matching"].env["NATS_URL"])
        try:
            await nc.jetstream().publish(subject, data,
                                         headers={"Nats-Msg-Id": str(uuid.uuid4())})
        finally:
            await nc.close()

    # in a thread of its own: the caller may already run an event loop (Playwright does)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, send()).result(timeout=30)


def deadline_passed(stack: WebStack, voucher: dict[str, Any]) -> None:
    """Matching hears that the voucher's choice deadline was yesterday (a later version of its
    ``voucher.issued``; the voucher service itself still holds the deadline open)."""
    event = VoucherIssued(
        voucher_id=voucher["id"], version=1000, state="issued", budget_id=voucher["budget_id"],
        region=voucher["region"], service_type=voucher["service_type"], holder_kind="person",
        home_municipality=voucher["home_municipality"], languages=voucher["languages"],
        value_cents=voucher["value_cents"], valid_until=voucher["valid_until"],
        choice_deadline=date.today() - timedelta(days=1))
    publish(stack, event.subject(), event.envelope(resource=voucher["id"])
            .model_dump_json().encode())


def poison(stack: WebStack, data: dict[str, Any]) -> str:
    """A ``voucher.issued`` whose data is not a voucher: matching gives up on it after its
    deliveries. Returns the event's id."""
    envelope = VoucherIssued.model_construct().envelope().model_dump(mode="json")
    envelope["data"] = data
    publish(stack, VoucherIssued.subject(), orjson.dumps(envelope))
    return str(envelope["id"])
