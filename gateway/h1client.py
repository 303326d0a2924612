"""A small pooled HTTP/1.1 client for the gateway's hop to the services: asyncio protocols and
the ``httptools`` parser (llhttp, the parser uvicorn uses), nothing else per request.

It speaks plain HTTP/1.1 to our own services on a private network: keep-alive connections per
origin, a bound on open connections, a connect timeout and a total timeout per request. It does
not follow redirects, decompress, handle cookies or speak TLS: the gateway passes responses on as
they are. ``bench/gateway_hop.py`` measures it against aiohttp and httpx.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import cast
from urllib.parse import urlsplit

import httptools


class ConnectionFailed(Exception):
    """No answer came back over the connection (refused, reset, closed, unparseable)."""

    def __init__(self, message: str, *, reused: bool = False, sent: bool = False) -> None:
        super().__init__(message)
        self.reused = reused  # the connection had served a request before
        self.sent = sent  # bytes of this request may have reached the server


class RequestTimeout(Exception):
    pass


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used = False
        self.idle_since = time.monotonic()
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._head = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self._chunks: list[bytes] = []
        self.keep_alive = False
        self._headers_done = False
        self._has_length = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but behave as one
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionFailed(f"unparseable response: {exc}", sent=True))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._headers_done and not self._has_length:
                # a body delimited by the end of the connection
                self._waiter.set_result(None)
            else:
                self._waiter.set_exception(ConnectionFailed(
                    "connection closed before the response was complete",
                    reused=self.used, sent=True))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self.status = self._parser.get_status_code()
        for name, value in self.headers:
            lower = name.lower()
            if lower == "content-length" or (lower == "transfer-encoding"
                                             and "chunked" in value.lower()):
                self._has_length = True
        if self._head and self._waiter is not None and not self._waiter.done():
            # llhttp cannot be told that a HEAD response has no body: answer now, then close
            self.keep_alive = False
            self._waiter.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, raw: bytes, *, head: bool) -> tuple[int, list[tuple[str, str]],
                                                                 bytes]:
        assert self.transport is not None
        self._reset()
        self._head = head
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        try:
            await self._waiter
        finally:
            self._waiter = None
            self.used = True
        return self.status, self.headers, b"".join(self._chunks)


class _Origin:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.idle: deque[_Connection] = deque()


class H1Client:
    """``send()`` one request to an ``http://`` URL; connections are kept per origin."""

    def __init__(self, *, timeout: float, connect_timeout: float, pool_size: int,
                 keepalive_seconds: float = 4.0) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.keepalive_seconds = keepalive_seconds
        self._slots = asyncio.BoundedSemaphore(pool_size)
        self._origins: dict[tuple[str, int], _Origin] = {}
        self._closed = False

    def _origin(self, host: str, port: int) -> _Origin:
        key = (host, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(host, port)
        return origin

    async def _connect(self, origin: _Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(_Connection, origin.host, origin.port)
        except TimeoutError as exc:
            raise ConnectionFailed(f"connect to {origin.host}:{origin.port} timed out"
                                   ) from exc
        except OSError as exc:
            raise ConnectionFailed(f"cannot connect to {origin.host}:{origin.port}: {exc}"
                                   ) from exc
        return conn

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        now = time.monotonic()
        while origin.idle:
            conn = origin.idle.pop()  # the most recently used: the least likely to be stale
            if not conn.closed and now - conn.idle_since < self.keepalive_seconds:
                return conn
            conn.close()
        return None

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._closed:
            raise ConnectionFailed("client is closed")
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs are supported, not {url!r}")
        port = parts.port or 80
        target = (parts.path or "/") + (f"?{params}" if params else "")
        if any(c in target for c in " \r\n\t"):
            raise ValueError("the request target must be percent-encoded")
        host_header = parts.netloc
        lines = [f"{method} {target} HTTP/1.1", f"host: {host_header}"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError("header with a line break")
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"content-length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        origin = self._origin(parts.hostname, port)
        try:
            async with asyncio.timeout(self.timeout):
                async with self._slots:
                    conn = self._idle_connection(origin) or await self._connect(origin)
                    try:
                        status, out_headers, content = await conn.exchange(
                            raw, head=method == "HEAD")
                    except BaseException:
                        conn.close()
                        raise
                    if conn.keep_alive and not conn.closed:
                        conn.idle_since = time.monotonic()
                        origin.idle.append(conn)
                    else:
                        conn.close()
                    return status, out_headers, content
        except TimeoutError as exc:
            raise RequestTimeout(f"no complete answer from {host_header} in {self.timeout}s"
                                 ) from exc

    async def close(self) -> None:
        self._closed = True
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.pop().close()
