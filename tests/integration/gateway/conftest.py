"""The gateway in front of real service processes (registry, voucher, matching as uvicorn
processes on loopback, their own nats-server and SQLite files)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts.principal import HEADER, Principal, Role, encode
from gateway.main import create_app
from gateway.settings import Settings
from kit.natsserver import NatsServer
from tests.processes import ServiceProcess


@dataclass
class Stack:
    registry: ServiceProcess
    voucher: ServiceProcess
    matching: ServiceProcess
    nats: NatsServer

    def gateway_settings(self, **over: Any) -> Settings:
        base: dict[str, Any] = {
            "registry_url": self.registry.url, "voucher_url": self.voucher.url,
            "matching_url": self.matching.url, "dev_mode": True, "log_level": "WARNING",
            "api_key_cache_seconds": 0.0, "rate_per_second": 10_000, "rate_burst": 10_000,
        }
        return Settings(**(base | over))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    nats = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
    nats.start()
    procs = {}
    try:
        for name in ("registry", "voucher", "matching"):
            prefix = name.upper()
            env = {f"{prefix}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / (name + '.db')}",
                   "NATS_URL": nats.url, f"{prefix}_LOG_LEVEL": "WARNING"}
            procs[name] = ServiceProcess(f"services.{name}.main:app", env, tmp / f"{name}.log")
            procs[name].start(wait_for="/readyz")
        yield Stack(procs["registry"], procs["voucher"], procs["matching"], nats)
    finally:
        for p in procs.values():
            p.stop()
        nats.stop()


@pytest.fixture(scope="module")
def key_verification(stack: Stack) -> None:
    """The registry's ``POST /internal/credentials/verify``: tests of API keys skip (with this
    reason) while the registry does not have it."""
    token = encode(Principal(sub="gateway", role=Role.service),
                   stack.gateway_settings().principal_secret)
    r = httpx.post(stack.registry.url + "/internal/credentials/verify",
                   json={"api_key": "stl_00000000_probe"}, headers={HEADER: token}, timeout=10)
    if r.status_code == 404:
        pytest.skip("the registry has no POST /internal/credentials/verify yet")
    assert r.status_code == 401, r.text


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI

    async def token(self, **body: Any) -> dict[str, str]:
        r = await self.client.post("/auth/dev-token", json=body)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def admin(self, region: str = "pirkanmaa") -> dict[str, str]:
        return await self.token(role="region_admin", region=region)

    async def staff(self, provider_id: str) -> dict[str, str]:
        return await self.token(role="provider", provider_id=provider_id)

    async def citizen(self, hetu: str = "010280-952L") -> dict[str, str]:
        return await self.token(role="citizen", henkilotunnus=hetu)


def client_for(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of ``app`` calling from ``address`` (the gateway sees it as the peer)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


@asynccontextmanager
async def gateway_for(settings: Settings, address: str = "127.0.0.1"
                      ) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with client_for(app, address) as client:
            yield Gateway(client, app)


@pytest.fixture
async def gateway(stack: Stack) -> AsyncIterator[Gateway]:
    async with gateway_for(stack.gateway_settings()) as gw:
        yield gw
