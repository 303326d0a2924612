"""The voucher service beside a real registry on one real broker (SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set): the catalogue, accreditations and offerings reach the voucher service
the way they do in production, through the registry's events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from contracts.principal import Principal, Role, encode
from kit.persons import person_key
from services.registry.domain.places import SERVICE_TYPES
from services.registry.main import create_app as registry_app
from services.registry.settings import Settings as RegistrySettings
from services.voucher.main import create_app as voucher_app
from services.voucher.models import (
    LedgerAccount,
    OfferingView,
    ServiceTypeView,
    metadata,
)
from services.voucher.settings import Settings as VoucherSettings
from tests.integration.registry.conftest import Registry, offering_body
from tests.support import DbFactory, eventually, running

HETU = "010280-952L"  # public test persons (individual numbers 900-999)
OTHER_HETU = "081181-9984"
A = LedgerAccount.__table__


@dataclass
class Market:
    client: httpx.AsyncClient  # the voucher service
    app: FastAPI
    registry: Registry
    settings: VoucherSettings

    def auth(self, principal: Principal) -> dict[str, str]:
        return {"X-Seteli-Principal": encode(principal, self.settings.principal_secret)}

    def admin(self, region: str = "pirkanmaa", sub: str | None = None) -> dict[str, str]:
        return self.auth(Principal(sub=sub or f"admin-{region}", role=Role.region_admin,
                                   region=region))

    def citizen(self, hetu: str = HETU) -> dict[str, str]:
        key = person_key(self.settings.person_key_secret, hetu, allow_temporary=True)
        return self.auth(Principal(sub=f"citizen:{key[:16]}", role=Role.citizen,
                                   person_key=key))

    def staff(self, provider_id: str) -> dict[str, str]:
        return self.auth(Principal(sub=f"staff-{provider_id[:8]}", role=Role.provider,
                                   provider_id=provider_id))

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def open_budget(self, *funders: tuple[str, int], region: str = "pirkanmaa",
                          service_type: str = "job-search-coaching",
                          start: date | None = None) -> dict[str, Any]:
        start = start or date.today().replace(day=1)
        r = await self.client.post("/budgets", json={
            "service_type": service_type, "period_start": start.isoformat(),
            "period_end": (start + timedelta(days=365)).isoformat(),
            "funders": [{"funder": f, "amount_cents": a} for f, a in funders]},
            headers=self.admin(region))
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def issue(self, budget_id: str, /, hetu: str = HETU, value: int = 150_000,
                    headers: dict[str, str] | None = None, **over: Any) -> httpx.Response:
        body = {"budget_id": budget_id, "holder": {"kind": "person", "henkilotunnus": hetu},
                "value_cents": value, "home_municipality": "837", "languages": ["fi"],
                "remote_suits": True,
                "profile": {"unemployment": "from_3_to_12_months", "education": "basic",
                            "earlier_services": "none"}} | over
        return await self.client.post("/vouchers", json=body, headers=headers or self.admin())

    async def offering(self, seed: int, capacity: int = 12, **over: Any) -> tuple[str, str]:
        """An approved provider's published offering, once the voucher service has seen it."""
        pid = await self.registry.accredited_provider(seed, over.get("region", "pirkanmaa"))
        r = await self.registry.publish(pid, capacity=capacity, **over)
        assert r.status_code == 201, r.text
        oid = r.json()["id"]

        async def seen() -> bool:
            async with self.db.reader() as s:
                return await s.get(OfferingView, oid) is not None

        await eventually(seen, what="offering in the voucher service's read model")
        return pid, oid

    async def ledger_totals(self) -> tuple[int, int, int, int]:
        async with self.db.reader() as s:
            row = (await s.execute(select(
                func.coalesce(func.sum(A.c.debits_pending), 0),
                func.coalesce(func.sum(A.c.credits_pending), 0),
                func.coalesce(func.sum(A.c.debits_posted), 0),
                func.coalesce(func.sum(A.c.credits_posted), 0)))).one()
        return tuple(int(x) for x in row)  # type: ignore[return-value]

    async def catalogue(self) -> None:
        """Wait until the registry's catalogue has reached the voucher service."""
        async def known() -> bool:
            async with self.db.reader() as s:
                n = await s.scalar(select(func.count()).select_from(ServiceTypeView))
                return (n or 0) >= len(SERVICE_TYPES)

        await eventually(known, what="the catalogue in the voucher service")

    async def count(self, table: str) -> int:
        async with self.db.reader() as s:
            return int(await s.scalar(
                select(func.count()).select_from(metadata.tables[table])) or 0)


def apps(db: DbFactory, nats_url: str) -> tuple[FastAPI, FastAPI, RegistrySettings,
                                                 VoucherSettings]:
    """A registry and a voucher service on fresh databases and one broker."""
    reg_t, vou_t = db.new("registry"), db.new("voucher")
    common: dict[str, Any] = {"nats_url": nats_url, "outbox_poll_seconds": 0.1,
                              "log_level": "WARNING"}
    reg_settings = RegistrySettings(database_url=reg_t.url, database_schema=reg_t.schema,
                                    **common)
    settings = VoucherSettings(database_url=vou_t.url, database_schema=vou_t.schema, **common)
    return registry_app(reg_settings), voucher_app(settings), reg_settings, settings


@pytest.fixture
async def market(db: DbFactory, clean_nats: str) -> AsyncIterator[Market]:
    reg, vou, reg_settings, settings = apps(db, clean_nats)
    async with running(reg) as r, running(vou) as v:
        registry = Registry(r, reg, clean_nats, reg_settings.principal_secret)
        market = Market(v, vou, registry, settings)
        await market.catalogue()
        yield market


def offering(**over: Any) -> dict[str, Any]:
    return offering_body(**over)
