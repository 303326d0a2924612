"""Forwarding of ``/api/v1/...`` to the owning service through one pooled client.

Three interchangeable clients (our own HTTP/1.1 client on httptools, aiohttp, httpx);
``bench/gateway_hop.py`` measures them side by side and the default is the fastest. Only
idempotent methods are retried (on a connection failure); a timeout is a 504 and an
unreachable service a 502, both problem+json (written by ``gateway.proxy``), never a hang.

A service may run as several instances (``GATEWAY_VOUCHER_URL=http://a:8002,http://b:8002``):
requests go round robin over them (:class:`Instances`). An instance whose connection failed
is skipped for ``GATEWAY_UPSTREAM_DOWN_SECONDS`` (an idempotent request is retried on the next
one), and every ``GATEWAY_UPSTREAM_HEALTH_SECONDS`` each instance's ``/readyz`` is asked: one
that does not answer 200 is skipped until it does. Behind a Kubernetes Service there is one URL
and the Service balances.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import aiohttp
import httpx
import yarl

from gateway.h1client import ConnectionFailed, H1Client, RequestTimeout

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length", "proxy-connection",
})
# Never passed on from the client: identity is the gateway's to assert (the principal token),
# the request id and the forwarding headers are the gateway's to set, and the services answer
# uncompressed so that the body can be passed on as it is.
STRIPPED_FROM_CLIENT = frozenset({
    "x-seteli-principal", "authorization", "cookie", "x-api-key", "x-csrf-token",
    "x-request-id", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded",
    "x-real-ip", "accept-encoding", "expect",
})
STRIPPED_FROM_UPSTREAM = frozenset({"x-request-id", "server", "date", "set-cookie"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class UpstreamTimeout(Exception):
    pass


class UpstreamUnreachable(Exception):
    """No answer from the service. ``sent``: the request may have reached it (after a refused
    connection nothing was sent, and any request can be tried on another instance)."""

    def __init__(self, message: str = "", *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class Client(Protocol):
    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]: ...

    async def close(self) -> None: ...


class H1Upstream:
    def __init__(self, *, timeout: float, connect_timeout: float, pool_size: int,
                 keepalive_seconds: float) -> None:
        self.client = H1Client(timeout=timeout, connect_timeout=connect_timeout,
                               pool_size=pool_size, keepalive_seconds=keepalive_seconds)

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            return await self.client.send(method, url, params, body, headers)
        except RequestTimeout as exc:
            raise UpstreamTimeout from exc
        except ConnectionFailed as exc:
            raise UpstreamUnreachable(str(exc), sent=exc.sent) from exc

    async def close(self) -> None:
        await self.client.close()


class AiohttpClient:
    def __init__(self, *, timeout: float, connect_timeout: float, pool_size: int,
                 keepalive_seconds: float) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size,
                                           keepalive_timeout=keepalive_seconds),
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        # already percent-encoded by the client: taken as it is, not re-quoted or normalised
        full = yarl.URL(f"{url}?{params}" if params else url, encoded=True)
        try:
            async with self.session.request(method, full, data=body or None,
                                            headers=headers) as r:
                content = await r.read()
                return r.status, list(r.headers.items()), content
        except TimeoutError as exc:
            raise UpstreamTimeout from exc
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnreachable(str(exc), sent=False) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(str(exc)) from exc

    async def close(self) -> None:
        await self.session.close()


class HttpxClient:
    def __init__(self, *, timeout: float, connect_timeout: float, pool_size: int,
                 keepalive_seconds: float) -> None:
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size,
                                keepalive_expiry=keepalive_seconds),
        )

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        full = f"{url}?{params}" if params else url
        try:
            r = await self.client.request(method, full, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout from exc
        except httpx.ConnectError as exc:
            raise UpstreamUnreachable(str(exc), sent=False) from exc
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(str(exc)) from exc
        # httpx has decoded a compressed body: its encoding no longer applies
        return (r.status_code, [(k, v) for k, v in r.headers.multi_items()
                                if k.lower() != "content-encoding"], r.content)

    async def close(self) -> None:
        await self.client.aclose()


CLIENTS: dict[str, type[H1Upstream] | type[AiohttpClient] | type[HttpxClient]] = {
    "h1": H1Upstream, "aiohttp": AiohttpClient, "httpx": HttpxClient}


def make_client(kind: str, *, timeout: float, connect_timeout: float, pool_size: int,
                keepalive_seconds: float = 4.0) -> Client:
    """``keepalive_seconds`` stays below the services' own keep-alive timeout (uvicorn: 5 s) so
    that a pooled connection is dropped here before the service closes it under a request."""
    return CLIENTS[kind](timeout=timeout, connect_timeout=connect_timeout, pool_size=pool_size,
                         keepalive_seconds=keepalive_seconds)


class Instances:
    """The base URLs of one service's instances: round robin over those not marked down (when
    every one is marked down, they are tried in turn all the same)."""

    def __init__(self, urls: Sequence[str], *, down_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not urls:
            raise ValueError("a service needs at least one URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.down_seconds = down_seconds
        self.clock = clock
        self._next = 0
        self._down_until: dict[str, float] = {}
        self._unready: set[str] = set()

    def _usable(self, url: str, now: float) -> bool:
        return url not in self._unready and self._down_until.get(url, 0.0) <= now

    def pick(self) -> str:
        now = self.clock()
        n = len(self.urls)
        for k in range(n):
            i = (self._next + k) % n
            if self._usable(self.urls[i], now):
                self._next = (i + 1) % n
                return self.urls[i]
        url = self.urls[self._next]
        self._next = (self._next + 1) % n
        return url

    def mark_down(self, url: str) -> None:
        """Its connection failed: skipped for ``down_seconds``."""
        self._down_until[url] = self.clock() + self.down_seconds

    def set_ready(self, url: str, ready: bool) -> None:
        """What its ``/readyz`` said: an instance that is not ready is skipped until it is."""
        if ready:
            self._unready.discard(url)
        else:
            self._unready.add(url)

    def up(self) -> list[str]:
        now = self.clock()
        return [u for u in self.urls if self._usable(u, now)]


class Upstreams:
    """The services' instances and the one pooled client to them."""

    def __init__(self, urls: Mapping[str, str | Sequence[str]], client: Client, *,
                 down_seconds: float = 5.0) -> None:
        self.instances = {
            name: Instances(split_urls(u) if isinstance(u, str) else u,
                            down_seconds=down_seconds)
            for name, u in urls.items()}
        self.client = client
        self._health: asyncio.Task[None] | None = None

    def start_health_checks(self, interval: float) -> None:
        """Ask every instance of the services that have several for ``/readyz`` every
        ``interval`` seconds (a service with one instance has nothing to choose from)."""
        self._health = asyncio.create_task(self._check_health(interval), name="upstream-health")

    async def _check_health(self, interval: float) -> None:
        while True:
            await asyncio.gather(*(self._check(pool, url)
                                   for pool in self.instances.values() if len(pool.urls) > 1
                                   for url in pool.urls))
            await asyncio.sleep(interval)

    async def _check(self, pool: Instances, url: str) -> None:
        try:
            status, _, _ = await asyncio.wait_for(
                self.client.send("GET", url + "/readyz", "", b"", {}), 2.0)
            ready = status == 200
        except Exception:  # unreachable, timed out: not ready
            ready = False
        pool.set_ready(url, ready)

    async def close(self) -> None:
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        await self.client.close()

    async def send(self, service: str, method: str, path: str, query: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request to an instance of ``service``; an instance whose connection fails is
        marked down, and the request is tried again on the next one when that is safe: an
        idempotent method, or any request that was never sent (the connection was refused).
        Never after a timeout: the service may still be working on it."""
        instances = self.instances[service]
        attempts = max(2, len(instances.urls))
        for attempt in range(attempts):
            base = instances.pick()
            try:
                return await self.client.send(method, base + path, query, body, headers)
            except UpstreamUnreachable as exc:
                instances.mark_down(base)
                if attempt + 1 >= attempts or (exc.sent and method not in IDEMPOTENT):
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("unreachable")  # pragma: no cover


def split_urls(value: str) -> list[str]:
    """``http://a:8002,http://b:8002`` → the base URLs of a service's instances."""
    return [u.strip().rstrip("/") for u in value.split(",") if u.strip()]


def response_headers(upstream: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers a client may see, as ASGI header pairs."""
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in upstream
            if k.lower() not in HOP_BY_HOP and k.lower() not in STRIPPED_FROM_UPSTREAM]
