"""A caller at ten times its rate gets 429s with Retry-After, and another caller's latency
stays within twice its baseline meanwhile. Loopback only; bounded in count and time."""

from __future__ import annotations

import asyncio
import time

from tests.integration.gateway.conftest import Gateway, Stack, gateway_for

RATE = 20.0  # per second, per caller
BURST = 10


async def paced(gw: Gateway, headers: dict[str, str], per_second: float, seconds: float,
                statuses: list[int], latencies: list[float], *, limit: int) -> None:
    interval = 1.0 / per_second
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    tasks = []

    async def one() -> None:
        t0 = time.perf_counter()
        r = await gw.client.get("/api/v1/offerings", headers=headers)
        latencies.append(time.perf_counter() - t0)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1

    while loop.time() < end and len(tasks) < limit:
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(interval)
    await asyncio.gather(*tasks)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def test_flooding_caller_is_limited_and_others_are_not_slowed(stack: Stack) -> None:
    settings = stack.gateway_settings(rate_per_second=RATE, rate_burst=BURST)
    async with gateway_for(settings) as gw:
        flooder = await gw.citizen("010280-952L")
        other = await gw.citizen("081181-9984")
        for _ in range(20):  # warm up connections and caches
            await gw.client.get("/api/v1/offerings", headers=other)
        await asyncio.sleep(1.0)  # let the other caller's bucket refill

        base_status: list[int] = []
        base_lat: list[float] = []
        await paced(gw, other, 10, 4.0, base_status, base_lat, limit=40)

        flood_status: list[int] = []
        flood_lat: list[float] = []
        other_status: list[int] = []
        other_lat: list[float] = []
        flood = asyncio.create_task(
            paced(gw, flooder, RATE * 10, 5.0, flood_status, flood_lat, limit=1000))
        await asyncio.sleep(0.5)  # measure the steady state: the flooder's burst is spent
        await paced(gw, other, 10, 4.0, other_status, other_lat, limit=40)
        await flood

    limited = flood_status.count(429) / len(flood_status)
    assert len(flood_status) >= 400
    assert limited > 0.7, f"only {limited:.0%} of the flood was refused"
    assert set(flood_status) <= {200, 429}
    assert set(base_status) == {200} and set(other_status) == {200}
    assert p99(other_lat) <= 2 * p99(base_lat), (
        f"other caller p99 {p99(other_lat) * 1000:.1f} ms vs baseline "
        f"{p99(base_lat) * 1000:.1f} ms")
