"""The gateway balancing between several instances of a service: round robin, an instance
whose connection failed skipped for a while, idempotent requests retried on the next one."""

from __future__ import annotations

import asyncio

import pytest

from gateway.settings import Settings
from gateway.upstreams import Instances, Upstreams, UpstreamUnreachable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeClient:
    """Answers with the instance's base URL; instances in ``dead`` fail (after the request
    was sent, unless ``refused``: then the connection was refused and nothing was sent)."""

    def __init__(self, dead: set[str] | None = None, *, refused: bool = False) -> None:
        self.dead = dead or set()
        self.refused = refused
        self.calls: list[str] = []

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        base = url.rsplit("/vouchers", 1)[0]
        self.calls.append(url if url.endswith("/readyz") else base)
        if base in self.dead:
            raise UpstreamUnreachable(base, sent=not self.refused)
        return 200, [], base.encode()

    async def close(self) -> None:
        pass


def test_round_robin_skips_an_instance_marked_down_until_its_time_is_up() -> None:
    clock = Clock()
    pool = Instances(["http://a/", "http://b", "http://c"], down_seconds=5, clock=clock)
    assert [pool.pick() for _ in range(4)] == ["http://a", "http://b", "http://c", "http://a"]
    pool.mark_down("http://c")
    assert [pool.pick() for _ in range(4)] == ["http://b", "http://a", "http://b", "http://a"]
    assert pool.up() == ["http://a", "http://b"]
    clock.now += 5
    assert sorted(pool.pick() for _ in range(3)) == ["http://a", "http://b", "http://c"]
    for url in pool.urls:
        pool.mark_down(url)
    assert sorted(pool.pick() for _ in range(3)) == ["http://a", "http://b", "http://c"]  # all down


async def test_requests_spread_over_instances_and_avoid_a_dead_one() -> None:
    client = FakeClient(dead={"http://b"})
    ups = Upstreams({"voucher": "http://a, http://b,http://c"}, client)
    answers = [(await ups.send("voucher", "GET", "/vouchers", "", b"", {}))[2]
               for _ in range(6)]
    assert set(answers) == {b"http://a", b"http://c"}  # GET to b retried on the next one
    assert client.calls.count("http://b") == 1  # then skipped
    assert abs(answers.count(b"http://a") - answers.count(b"http://c")) <= 1


async def test_a_write_that_may_have_arrived_is_not_sent_again() -> None:
    client = FakeClient(dead={"http://a"})
    ups = Upstreams({"voucher": ["http://a", "http://b"]}, client)
    with pytest.raises(UpstreamUnreachable):
        await ups.send("voucher", "POST", "/vouchers", "", b"{}", {})
    assert client.calls == ["http://a"]  # a POST may have reached it: not sent twice
    assert (await ups.send("voucher", "POST", "/vouchers", "", b"{}", {}))[2] == b"http://b"


async def test_a_write_whose_connection_was_refused_goes_to_the_next_instance() -> None:
    client = FakeClient(dead={"http://a"}, refused=True)
    ups = Upstreams({"voucher": ["http://a", "http://b"]}, client)
    assert (await ups.send("voucher", "POST", "/vouchers", "", b"{}", {}))[2] == b"http://b"
    assert client.calls == ["http://a", "http://b"]


def test_settings_take_several_instances_of_a_service() -> None:
    s = Settings(voucher_url="http://v1:8002, http://v2:8002/")
    assert s.instances()["voucher"] == ["http://v1:8002", "http://v2:8002"]
    assert s.instances()["registry"] == ["http://127.0.0.1:8001"]
    with pytest.raises(ValueError, match="names no instance"):
        Settings(matching_url=" , ")


class ReadyzClient(FakeClient):
    """``/readyz`` answers 503 on the instances in ``unready``."""

    def __init__(self, unready: set[str]) -> None:
        super().__init__()
        self.unready = unready

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        if url.endswith("/readyz"):
            return (503 if url.removesuffix("/readyz") in self.unready else 200), [], b""
        return await super().send(method, url, params, body, headers)


async def test_an_instance_that_is_not_ready_is_skipped_until_it_is() -> None:
    client = ReadyzClient(unready={"http://b"})
    ups = Upstreams({"voucher": "http://a,http://b", "registry": "http://r"}, client)
    ups.start_health_checks(0.01)
    try:
        await asyncio.sleep(0.05)
        answers = {(await ups.send("voucher", "POST", "/vouchers", "", b"", {}))[2]
                   for _ in range(4)}
        assert answers == {b"http://a"}  # even a write, which is never retried
        assert "http://r/readyz" not in client.calls  # one instance: nothing to choose
        client.unready.clear()
        await asyncio.sleep(0.05)
        answers = {(await ups.send("voucher", "POST", "/vouchers", "", b"", {}))[2]
                   for _ in range(4)}
        assert answers == {b"http://a", b"http://b"}
    finally:
        await ups.close()
