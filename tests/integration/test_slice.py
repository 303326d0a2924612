"""The thin vertical slice: a provider application in the registry reaches the voucher and
matching read models through the outbox, JetStream and the inbox."""

from __future__ import annotations

import httpx

from services.matching.main import create_app as matching_app
from services.matching.settings import Settings as MatchingSettings
from services.registry.main import create_app as registry_app
from services.registry.settings import Settings as RegistrySettings
from services.voucher.main import create_app as voucher_app
from services.voucher.settings import Settings as VoucherSettings
from tests.support import DbFactory, application, eventually, running


def settings_for(cls, db: DbFactory, nats_url: str, service: str):  # type: ignore[no-untyped-def]
    target = db.new(service)
    return cls(
        database_url=target.url,
        database_schema=target.schema,
        nats_url=nats_url,
        outbox_poll_seconds=0.1,
        log_level="WARNING",
    )


async def test_provider_application_reaches_read_models(db: DbFactory, clean_nats: str) -> None:
    reg = registry_app(settings_for(RegistrySettings, db, clean_nats, "registry"))
    vou = voucher_app(settings_for(VoucherSettings, db, clean_nats, "voucher"))
    mat = matching_app(settings_for(MatchingSettings, db, clean_nats, "matching"))
    async with running(reg) as r, running(vou) as v, running(mat) as m:
        resp = await r.post(
            "/providers",
            json=application(1) | {"legal_name": "Polku Valmennus Oy"},
        )
        assert resp.status_code == 201, resp.text
        provider = resp.json()

        async def seen_in(client: httpx.AsyncClient) -> dict[str, object] | None:
            got = await client.get(f"/internal/read-models/providers/{provider['id']}")
            return got.json() if got.status_code == 200 else None

        for client in (v, m):
            view = await eventually(lambda c=client: seen_in(c), what="read model updated")
            assert view["legal_name"] == "Polku Valmennus Oy"
            assert view["business_id"] == provider["business_id"]
            assert view["status"] == "applied"
