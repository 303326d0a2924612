from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import nats
import pytest
from fastapi import FastAPI
from nats.js.errors import NotFoundError
from sqlalchemy import func, select

from contracts.events import Envelope
from contracts.principal import Principal, Role, encode
from services.registry.main import create_app
from services.registry.models import metadata
from services.registry.settings import Settings
from tests.support import CATALOGUE_EVENTS, DbFactory, application, running, service_settings


@dataclass
class Registry:
    client: httpx.AsyncClient
    app: FastAPI
    nats_url: str
    secret: str

    def auth(self, principal: Principal) -> dict[str, str]:
        return {"X-Seteli-Principal": encode(principal, self.secret)}

    def admin(self, region: str = "pirkanmaa") -> dict[str, str]:
        return self.auth_admin(f"admin-{region}", region)

    def auth_admin(self, sub: str, region: str) -> dict[str, str]:
        return self.auth(Principal(sub=sub, role=Role.region_admin, region=region))

    def staff(self, provider_id: str) -> dict[str, str]:
        return self.auth(Principal(sub=f"staff-{provider_id}", role=Role.provider,
                                   provider_id=provider_id))

    def auth_citizen(self) -> dict[str, str]:
        return self.auth(Principal(sub="citizen-1", role=Role.citizen, person_key="k" * 64))

    def service(self) -> dict[str, str]:
        return self.auth(Principal(sub="gateway", role=Role.service))

    async def apply(self, i: int, regions: tuple[str, ...] = ("pirkanmaa",)) -> dict[str, Any]:
        r = await self.client.post("/providers", json=application(i, regions))
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def approve(self, provider_id: str, region: str = "pirkanmaa") -> dict[str, Any]:
        r = await self.client.post(
            f"/providers/{provider_id}/accreditations/{region}/decisions",
            json={"decision": "approve", "reason": "meets the criteria",
                  "valid_until": (date.today() + timedelta(days=365)).isoformat()},
            headers=self.admin(region))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def accredited_provider(self, i: int, region: str = "pirkanmaa") -> str:
        p = await self.apply(i, (region,))
        await self.approve(p["id"], region)
        return str(p["id"])

    async def publish(self, provider_id: str, **over: Any) -> httpx.Response:
        return await self.client.post("/offerings", json=offering_body(**over),
                                      headers=self.staff(provider_id))

    async def outbox_rows(self) -> int:
        return (await self.row_counts())["outbox"]

    async def row_counts(self) -> dict[str, int]:
        """Rows in every table of the registry's database: equal before and after a refused
        request when nothing was half-written."""
        counts: dict[str, int] = {}
        async with self.app.state.runtime.db.reader() as s:
            for name, table in metadata.tables.items():
                counts[name] = int(await s.scalar(select(func.count()).select_from(table)) or 0)
        return counts

    async def snapshot(self) -> dict[str, Any]:
        """Row counts plus the content of the rows a refused change could have touched."""
        async with self.app.state.runtime.db.reader() as s:
            rows = {
                name: sorted(str(tuple(r)) for r in (await s.execute(select(table))).all())
                for name, table in metadata.tables.items()
                if name in ("provider", "accreditation", "offering", "api_key",
                            "service_type", "offering_municipality", "offering_language")
            }
        return {"counts": await self.row_counts(), "rows": rows}

    async def published_events(self) -> list[Envelope]:
        """Every event, once the relay has published all that is committed."""
        from tests.support import eventually

        async def drained() -> bool:
            return bool(await self.app.state.runtime.relay.backlog() == 0)

        await eventually(drained, what="outbox drained")
        return await self.events()

    async def events(self) -> list[Envelope]:
        """Every event in the REGISTRY stream, in order, after the seeded catalogue's
        announcement (the migration that publishes it runs before every test)."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            try:
                info = await js.stream_info("REGISTRY")
            except NotFoundError:
                return []
            out = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg("REGISTRY", seq)
                out.append(Envelope.model_validate_json(msg.data or b""))
            return out[SEEDED_SERVICE_TYPES:]
        finally:
            await nc.close()


SEEDED_SERVICE_TYPES = CATALOGUE_EVENTS


def offering_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region": "pirkanmaa",
        "service_type": "job-search-coaching",
        "title": {"fi": "Työnhaun tehovalmennus", "en": "Intensive job-search coaching"},
        "description": {"fi": "Kuuden viikon valmennus ryhmässä ja yksin.",
                        "en": "Six weeks of group and one-to-one coaching."},
        "municipalities": ["837", "536"],
        "remote": False,
        "languages": ["fi", "en"],
        "unit_price_cents": 120_000,
        "capacity": 12,
        "next_start": (date.today() + timedelta(days=14)).isoformat(),
        "duration_days": 42,
    }
    body.update(over)
    return body


@pytest.fixture
async def registry(db: DbFactory, clean_nats: str) -> AsyncIterator[Registry]:
    target = db.new("registry")
    settings = service_settings(Settings, target, clean_nats)
    app = create_app(settings)
    async with running(app) as client:
        registry = Registry(client, app, clean_nats, settings.principal_secret)
        await registry.published_events()  # the seeded catalogue is out before the test starts
        yield registry
