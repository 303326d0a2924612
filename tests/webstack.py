"""The whole system as a person uses it: NATS, the three services and the gateway as real
processes on free loopback ports (SQLite files in a temporary directory), with the demo data
loaded. Used by the browser tests and the web page tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kit.natsserver import NatsServer
from tests.processes import ServiceProcess
from tests.support import application, valid_business_id

SERVICES = ("registry", "voucher", "matching")
PRINCIPAL_SECRET = "web-tests-principal-secret-0123456789abcdef"


@dataclass
class WebStack:
    gateway: ServiceProcess
    services: dict[str, ServiceProcess]

    @property
    def url(self) -> str:
        return self.gateway.url

    def new_application(self, region: str = "pirkanmaa") -> dict[str, Any]:
        """A fresh provider application in ``region`` (through the public API, no login)."""
        body = application(0, (region,))
        tag = uuid.uuid4().hex[:6]
        body |= {"business_id": valid_business_id(int(tag, 16) % 9_000_000 + 1_000_000),
                 "legal_name": f"Hakija {tag} Oy", "contact_email": f"hakija{tag}@example.fi"}
        r = httpx.post(self.url + "/api/v1/providers", json=body, timeout=15)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def provider_named(self, name: str) -> dict[str, Any]:
        r = httpx.get(self.url + "/api/v1/providers", params={"limit": 200}, timeout=15)
        assert r.status_code == 200, r.text
        return next(p for p in r.json()["items"] if p["legal_name"] == name)


async def _load_demo(registry_url: str) -> None:
    from services.registry import demo

    async with httpx.AsyncClient(base_url=registry_url, timeout=60.0) as client:
        await demo.load(client, PRINCIPAL_SECRET)


@contextmanager
def web_stack(tmp: Path, **gateway_env: str) -> Iterator[WebStack]:
    nats = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
    nats.start()
    procs: dict[str, ServiceProcess] = {}
    shared = {"NATS_URL": nats.url, "SETELI_PRINCIPAL_SECRET": PRINCIPAL_SECRET}
    try:
        for name in SERVICES:
            prefix = name.upper()
            env = shared | {f"{prefix}_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / name}.db",
                            f"{prefix}_LOG_LEVEL": "WARNING"}
            procs[name] = ServiceProcess(f"services.{name}.main:app", env, tmp / f"{name}.log")
            procs[name].start(wait_for="/readyz")
        env = shared | {
            "GATEWAY_REGISTRY_URL": procs["registry"].url,
            "GATEWAY_VOUCHER_URL": procs["voucher"].url,
            "GATEWAY_MATCHING_URL": procs["matching"].url,
            "GATEWAY_DEV_MODE": "true", "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_API_KEY_CACHE_SECONDS": "0",
            "GATEWAY_RATE_PER_SECOND": "10000", "GATEWAY_RATE_BURST": "10000",
        } | gateway_env
        gateway = ServiceProcess("gateway.main:app", env, tmp / "gateway.log")
        procs["gateway"] = gateway
        gateway.start(wait_for="/readyz")
        # in a thread of its own: the caller may already run an event loop (Playwright does)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _load_demo(procs["registry"].url)).result(timeout=120)
        yield WebStack(gateway, {k: v for k, v in procs.items() if k != "gateway"})
    finally:
        for p in reversed(procs.values()):
            p.stop()
        nats.stop()
