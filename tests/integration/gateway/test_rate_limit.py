"""A caller far over its rate gets 429s with Retry-After, never more successes than its bucket
allows, while another caller under its rate, at the same time, is never refused. The
assertions count answers against the token bucket's own arithmetic over the measured time, so
a slow or busy machine changes the numbers allowed, not the outcome: nothing here is timed
against a latency. (How much a flood slows others down is measured in bench/gateway_hop.py.)"""

from __future__ import annotations

import asyncio
import time

from tests.integration.gateway.conftest import Gateway, Stack, gateway_for

RATE = 5.0  # per second, per caller
BURST = 5
FLOOD_ROUNDS, FLOOD_BATCH = 6, 40  # 240 requests in six concurrent batches
OTHER_REQUESTS, OTHER_PAUSE = 10, 0.3  # one at a time: under 3.4 per second, below RATE


async def get(gw: Gateway, headers: dict[str, str]) -> int:
    r = await gw.client.get("/api/v1/offerings", headers=headers)
    if r.status_code == 429:
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["content-type"] == "application/problem+json"
    return r.status_code


async def test_flooding_caller_is_limited_and_others_are_not_slowed(stack: Stack) -> None:
    settings = stack.gateway_settings(rate_per_second=RATE, rate_burst=BURST)
    async with gateway_for(settings) as gw:
        flooder = await gw.citizen("010280-952L")
        other = await gw.citizen("081181-9984")

        async def flood() -> list[int]:
            statuses: list[int] = []
            for _ in range(FLOOD_ROUNDS):
                statuses += await asyncio.gather(*(get(gw, flooder)
                                                   for _ in range(FLOOD_BATCH)))
                await asyncio.sleep(0.2)
            return statuses

        async def calm() -> list[int]:
            statuses = []
            for _ in range(OTHER_REQUESTS):
                statuses.append(await get(gw, other))
                await asyncio.sleep(OTHER_PAUSE)
            return statuses

        started = time.monotonic()
        flood_status, other_status = await asyncio.gather(flood(), calm())
        elapsed = time.monotonic() - started

    assert set(flood_status) <= {200, 429} and len(flood_status) == FLOOD_ROUNDS * FLOOD_BATCH
    allowed = BURST + RATE * elapsed + 1  # what the bucket can give in the time it had
    served = flood_status.count(200)
    assert BURST <= served <= allowed, (served, allowed, elapsed)
    assert flood_status.count(429) >= len(flood_status) - allowed
    assert other_status == [200] * OTHER_REQUESTS  # the other caller is never refused
