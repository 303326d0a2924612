"""One stack of its own for the contract checks (nats-server, the three services and the gateway
as uvicorn processes on loopback, SQLite files, the demo data loaded): the generated requests
write into it, never into another suite's data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kit.natsserver import NatsServer
from kit.settings import DEV_PRINCIPAL_SECRET
from tests.processes import ServiceProcess

SERVICES = ("registry", "voucher", "matching")


@dataclass
class ContractStack:
    gateway: ServiceProcess
    services: dict[str, ServiceProcess]
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)  # role -> session token


def _load_demo(registry_url: str) -> None:
    from services.registry import demo

    async def load() -> None:
        async with httpx.AsyncClient(base_url=registry_url, timeout=30.0) as client:
            await demo.load(client, DEV_PRINCIPAL_SECRET)

    asyncio.run(load())


@pytest.fixture(scope="session")
def contract_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractStack]:
    tmp = tmp_path_factory.mktemp("contract")
    nats = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
    nats.start()
    procs: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:
            prefix = name.upper()
            env = {f"{prefix}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / (name + '.db')}",
                   "NATS_URL": nats.url, f"{prefix}_LOG_LEVEL": "WARNING",
                   "SETELI_PRINCIPAL_SECRET": DEV_PRINCIPAL_SECRET}
            procs[name] = ServiceProcess(f"services.{name}.main:app", env, tmp / f"{name}.log")
            procs[name].start(wait_for="/readyz")
        env = {f"GATEWAY_{n.upper()}_URL": procs[n].url for n in SERVICES} | {
            "GATEWAY_DEV_MODE": "true", "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_RATE_PER_SECOND": "100000", "GATEWAY_RATE_BURST": "100000",
            "GATEWAY_AUTH_FAILURE_RATE_PER_SECOND": "100000",
            "GATEWAY_AUTH_FAILURE_BURST": "100000",
            "SETELI_PRINCIPAL_SECRET": DEV_PRINCIPAL_SECRET}
        gateway = ServiceProcess("gateway.main:app", env, tmp / "gateway.log")
        procs["gateway"] = gateway.start(wait_for="/readyz")
        _load_demo(procs["registry"].url)
        stack = ContractStack(gateway, {n: procs[n] for n in SERVICES}, tmp)
        offerings = httpx.get(gateway.url + "/api/v1/offerings", timeout=10).json()["items"]
        for role, body in (("citizen", {"user": "citizen-maija"}),
                           ("region_admin", {"user": "admin-pirkanmaa"}),
                           ("provider", {"role": "provider",
                                         "provider_id": offerings[0]["provider_id"]})):
            r = httpx.post(gateway.url + "/auth/dev-token", json=body, timeout=10)
            r.raise_for_status()
            stack.tokens[role] = r.json()["access_token"]
        yield stack
    finally:
        for p in procs.values():
            p.stop()
        nats.stop()
