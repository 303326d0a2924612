"""The gateway's HTTP/1.1 client against a scripted server on loopback: keep-alive, framing
(length, chunked, until close, HEAD, 204), stale and expired connections, timeouts, failures,
the bound on connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from gateway.h1client import ConnectionFailed, H1Client, RequestTimeout

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # True: keep the connection


@dataclass
class Server:
    port: int
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[Server]:
    state = Server(0)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        state.open_now += 1
        state.most_open = max(state.most_open, state.open_now)
        try:
            while True:
                try:
                    request = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                state.requests.append(request)
                if not await handler(request, writer):
                    return
        finally:
            state.open_now -= 1
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()


def respond(body: bytes = b'{"ok":true}', status: str = "200 OK",
            extra: bytes = b"") -> Handler:
    async def handler(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 " + status.encode() + b"\r\ncontent-type: application/json\r\n"
                     + extra + b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
                     + body)
        await writer.drain()
        return True

    return handler


@pytest.fixture
async def client() -> AsyncIterator[H1Client]:
    c = H1Client(timeout=2.0, connect_timeout=1.0, pool_size=10, keepalive_seconds=4.0)
    yield c
    await c.close()


async def test_keep_alive_and_request_shape(client: H1Client) -> None:
    async with serve(respond(extra=b"x-multi: a\r\nx-multi: b\r\n")) as server:
        for i in range(5):
            status, headers, body = await client.send(
                "POST", server.url + "/providers", f"i={i}", b'{"a":1}',
                {"content-type": "application/json", "x-request-id": "r1"})
            assert (status, body) == (200, b'{"ok":true}')
        assert [v for k, v in headers if k == "x-multi"] == ["a", "b"]
        assert server.connections == 1  # one connection, kept alive
        first = server.requests[0]
        assert first.startswith(b"POST /providers?i=0 HTTP/1.1\r\n")
        assert f"host: 127.0.0.1:{server.port}".encode() in first
        assert b"content-length: 7\r\n" in first and first.endswith(b'{"a":1}')
        # a GET without a body sends no length
        await client.send("GET", server.url + "/x", "", b"", {})
        assert b"content-length" not in server.requests[-1]


async def test_chunked_and_close_delimited_bodies(client: H1Client) -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        return True

    async with serve(chunked) as server:
        assert (await client.send("GET", server.url + "/", "", b"", {}))[2] == b"hello world"
        assert (await client.send("GET", server.url + "/", "", b"", {}))[2] == b"hello world"
        assert server.connections == 1

    async def until_close(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()
        return False

    async with serve(until_close) as server:
        for _ in range(2):
            assert (await client.send("GET", server.url + "/", "", b"", {}))[2] == b"all of it"
        assert server.connections == 2  # not reused after "connection: close"


async def test_head_and_no_content(client: H1Client) -> None:
    async def handler(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if request.startswith(b"HEAD"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        return True

    async with serve(handler) as server:
        status, headers, body = await client.send("HEAD", server.url + "/", "", b"", {})
        assert status == 200 and body == b"" and ("content-length", "100") in headers
        for _ in range(2):
            assert (await client.send("DELETE", server.url + "/", "", b"", {}))[:3:2] == (
                204, b"")


async def test_a_connection_the_server_closed_is_not_reused(client: H1Client) -> None:
    async def close_after(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await respond()(request, writer)
        return False  # closes while the client keeps it in its pool

    async with serve(close_after) as server:
        await client.send("GET", server.url + "/", "", b"", {})
        await asyncio.sleep(0.05)
        assert (await client.send("POST", server.url + "/", "", b"{}", {}))[0] == 200
        assert server.connections == 2


async def test_idle_connections_expire_before_the_server_drops_them() -> None:
    c = H1Client(timeout=2.0, connect_timeout=1.0, pool_size=10, keepalive_seconds=0.05)
    async with serve(respond()) as server:
        await c.send("GET", server.url + "/", "", b"", {})
        await asyncio.sleep(0.1)
        await c.send("GET", server.url + "/", "", b"", {})
        assert server.connections == 2
    await c.close()


async def test_silent_server_is_a_timeout() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    c = H1Client(timeout=0.3, connect_timeout=1.0, pool_size=10)
    async with serve(silent) as server:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(RequestTimeout):
            await c.send("GET", server.url + "/", "", b"", {})
        assert loop.time() - t0 < 1.0
    await c.close()


async def test_failures_are_connection_failed(client: H1Client) -> None:
    from kit.natsserver import free_port

    with pytest.raises(ConnectionFailed) as refused:
        await client.send("GET", f"http://127.0.0.1:{free_port()}/", "", b"", {})
    assert not refused.value.sent

    async def half(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
        await writer.drain()
        return False

    async with serve(half) as server:
        with pytest.raises(ConnectionFailed):
            await client.send("GET", server.url + "/", "", b"", {})

    async def garbage(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"this is not http\r\n\r\n")
        await writer.drain()
        return True

    async with serve(garbage) as server:
        with pytest.raises(ConnectionFailed):
            await client.send("GET", server.url + "/", "", b"", {})


async def test_connections_are_bounded() -> None:
    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        return await respond()(request, writer)

    c = H1Client(timeout=5.0, connect_timeout=1.0, pool_size=2)
    async with serve(slow) as server:
        results = await asyncio.gather(*(c.send("GET", server.url + "/", "", b"", {})
                                         for _ in range(8)))
        assert {r[0] for r in results} == {200}
        assert server.most_open <= 2 and server.connections == 2
    await c.close()


async def test_nothing_can_be_smuggled_into_the_request(client: H1Client) -> None:
    async with serve(respond()) as server:
        with pytest.raises(ValueError):
            await client.send("GET", server.url + "/", "", b"", {"x-a": "1\r\nx-b: 2"})
        with pytest.raises(ValueError):
            await client.send("GET", server.url + "/a b", "", b"", {})
        with pytest.raises(ValueError):
            await client.send("GET", "https://example.fi/", "", b"", {})
        assert server.requests == []
