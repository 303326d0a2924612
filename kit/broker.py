"""The NATS connection of a process and the JetStream streams every process provisions.

One :class:`NatsLink` per process connects in the background and keeps reconnecting, so a
service starts (and serves reads) while the broker is down. :func:`ensure_streams` creates or
updates the streams (one per producing service and the dead-letter stream) identically in
every process, so start order does not matter.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.events import STREAMS
from kit.settings import DUPLICATE_WINDOW_SECONDS
from kit.tasks import bounded, cancel_and_wait

log = structlog.get_logger("kit.broker")

__all__ = ["DUPLICATE_WINDOW_SECONDS", "NatsLink", "ensure_streams", "server_urls"]


def server_urls(url: str) -> list[str]:
    """``NATS_URL`` may name several servers of a cluster, separated by commas
    (``nats://n1:4222,nats://n2:4222,nats://n3:4222``); the client connects to one of them and
    fails over to the others (and to those the cluster announces)."""
    servers = [u.strip() for u in url.split(",") if u.strip()]
    if not servers:
        raise ValueError("NATS_URL names no server")
    return servers


class NatsLink:
    """One NATS connection per process. Connects in the background and keeps reconnecting,
    so a service starts (and serves reads) while the broker is down."""

    def __init__(self, url: str, name: str, *, replicas: int = 1) -> None:
        self.url = url
        self.name = name
        self.replicas = replicas
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_loop(), name=f"nats-connect-{self.name}")

    async def wait(self) -> JetStreamContext:
        await self._ready.wait()
        assert self.js is not None
        return self.js

    async def _connect_loop(self) -> None:
        delay = 0.2
        while True:
            try:
                nc = await nats.connect(
                    servers=server_urls(self.url),
                    name=self.name,
                    connect_timeout=2,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                    ping_interval=5,
                    max_outstanding_pings=2,
                    error_cb=self._on_error,
                )
                self.nc = nc
                self.js = nc.jetstream(timeout=5)
                await ensure_streams(self.js, replicas=self.replicas)
                self._ready.set()
                log.info("nats_connected", url=self.url)
                return
            except Exception as exc:  # broker not there yet: keep trying
                log.warning("nats_connect_failed", url=self.url, error=repr(exc))
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                    self.nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats_error", error=repr(exc))

    async def ping(self, timeout: int = 1) -> None:
        if not self._ready.is_set() or self.nc is None or not self.nc.is_connected:
            raise ConnectionError("not connected to NATS (or streams not provisioned yet)")
        await self.nc.flush(timeout=timeout)

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        if self.nc is not None:
            await bounded(self.nc.close(), "nats connection")


async def ensure_streams(js: JetStreamContext, *, replicas: int = 1) -> None:
    """Create (or update) the streams: one per producing service and the dead-letter stream.
    File storage; every process provisions them the same way, so start order does not matter."""
    for name, subjects in STREAMS.items():
        config = StreamConfig(
            name=name,
            subjects=[subjects],
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            allow_atomic=True,  # the outbox relay publishes a backlog in atomic batches
        )
        try:
            await js.stream_info(name)
        except NotFoundError:
            try:
                await js.add_stream(config)
                continue
            except Exception:  # created by another process in between
                pass
        await js.update_stream(config)
