"""The matching service beside a real registry and voucher service on one real broker
(SQLite, and PostgreSQL when TEST_POSTGRES_URL is set), started once per module: offerings,
accreditations and vouchers reach matching the way they do in production, through events."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts.principal import Principal, Role, encode
from kit.persons import person_key
from services.matching.main import create_app as matching_app
from services.matching.models import OfferingView, VoucherView
from services.matching.settings import Settings as MatchingSettings
from services.matching.use_cases.clock import today as finnish_today
from tests.integration.registry.conftest import Registry
from tests.integration.voucher.conftest import HETU, OTHER_HETU, Market, apps
from tests.support import DbFactory, empty_broker, eventually, running, service_settings

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def person_code(n: int) -> str:
    """A valid henkilötunnus of a test person (individual number 900-999)."""
    digits = f"0101{90 + n // 100 % 10}{900 + n % 100:03d}"
    return f"{digits[:6]}-{digits[6:]}{CHECK[int(digits) % 31]}"


@dataclass
class Town:
    market: Market  # registry + voucher service
    client: httpx.AsyncClient  # the matching service
    app: FastAPI
    settings: MatchingSettings
    factory: DbFactory
    nats_url: str
    budget: str
    offerings: dict[str, str]  # name -> offering id
    providers: dict[str, str]  # name -> provider id
    vouchers: dict[str, str]  # holder's henkilötunnus -> voucher id

    def auth(self, principal: Principal) -> dict[str, str]:
        return {"X-Seteli-Principal": encode(principal, self.settings.principal_secret)}

    def admin(self, region: str = "pirkanmaa") -> dict[str, str]:
        return self.auth(Principal(sub=f"admin-{region}", role=Role.region_admin,
                                   region=region))

    def citizen(self, hetu: str = HETU) -> dict[str, str]:
        key = person_key(self.market.settings.person_key_secret, hetu, allow_temporary=True)
        return self.auth(Principal(sub=f"citizen:{key[:16]}", role=Role.citizen,
                                   person_key=key))

    def staff(self, provider_id: str) -> dict[str, str]:
        return self.auth(Principal(sub="staff", role=Role.provider, provider_id=provider_id))

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def settled(self) -> None:
        """Every event of the registry and the voucher service published, and applied by
        matching's consumers."""
        async def caught_up() -> bool:
            for app in (self.market.registry.app, self.market.app):
                if await app.state.runtime.relay.backlog():
                    return False
            lags = [await c.lag() for c in self.app.state.runtime.consumers]
            return all(lag == 0 for lag in lags)

        await eventually(caught_up, timeout=30, what="matching's consumers caught up")


OFFERINGS: dict[str, dict[str, Any]] = {
    # name: registry offering body changes
    "local": {"municipalities": ["837"], "languages": ["fi"], "capacity": 30},
    "remote": {"municipalities": ["536"], "remote": True, "languages": ["fi", "en"],
               "capacity": 30},
    "swedish": {"municipalities": ["837"], "languages": ["sv"], "capacity": 30},
    # room, but its provider takes no new customers now: no place open to a holder
    "closed": {"municipalities": ["837"], "languages": ["fi"], "capacity": 30,
               "accepting_new_customers": False},
}
HOLDERS = [HETU, OTHER_HETU, *(person_code(i) for i in range(1, 7))]


@pytest.fixture(scope="module", params=[
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("TEST_POSTGRES_URL"),
        reason="TEST_POSTGRES_URL is not set: PostgreSQL suite not run")),
])
async def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               nats_url: str) -> AsyncIterator[Town]:
    factory = DbFactory(request.param, tmp_path_factory.mktemp("matching"))
    await empty_broker(nats_url)
    reg, vou, reg_settings, v_settings = apps(factory, nats_url)
    settings = service_settings(MatchingSettings, factory.new("matching"), nats_url,
                                assignment_share_cap=1.0)
    app = matching_app(settings)
    try:
        async with running(reg) as r, running(vou) as v, running(app) as m:
            market = Market(v, vou, Registry(r, reg, nats_url, reg_settings.principal_secret),
                            v_settings)
            await market.catalogue()
            providers, offerings = {}, {}
            for i, (name, over) in enumerate(OFFERINGS.items()):
                providers[name], offerings[name] = await market.offering(7100 + i, **over)
            budget = (await market.open_budget(("region", 10_000_000)))["id"]
            vouchers = {}
            for hetu in HOLDERS:
                r_ = await market.issue(budget, hetu=hetu, choice_deadline=finnish_today()
                                        .isoformat())
                assert r_.status_code == 201, r_.text
                vouchers[hetu] = r_.json()["id"]
            town = Town(market, m, app, settings, factory, nats_url, budget, offerings,
                        providers, vouchers)

            async def arrived() -> bool:
                async with town.db.reader() as s:
                    seen = [await s.get(VoucherView, vid) for vid in vouchers.values()]
                    offered = [await s.get(OfferingView, oid) for oid in offerings.values()]
                return all(seen) and all(offered)

            await eventually(arrived, what="offerings and vouchers in matching's read model")
            yield town
    finally:
        await factory.cleanup()
