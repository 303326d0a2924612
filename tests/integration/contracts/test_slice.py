"""The thin vertical slice: a provider application in the registry reaches the voucher and
matching read models through the outbox, JetStream and the inbox."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from contracts.principal import Principal, Role, encode
from services.matching.main import create_app as matching_app
from services.matching.settings import Settings as MatchingSettings
from services.registry.main import create_app as registry_app
from services.registry.settings import Settings as RegistrySettings
from services.voucher.main import create_app as voucher_app
from services.voucher.settings import Settings as VoucherSettings
from tests.support import DbFactory, application, eventually, running, service_settings


def settings_for(cls, db: DbFactory, nats_url: str, service: str):  # type: ignore[no-untyped-def]
    return service_settings(cls, db.new(service), nats_url)


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


async def test_replicas_follow_apply_apply_again_approve_update(
    db: DbFactory, clean_nats: str
) -> None:
    """The real sequence through the registry, the broker and both consumers: a second region
    adds to the regions (never replaces them), the status follows the decision and the name
    follows provider.updated."""
    reg_settings = settings_for(RegistrySettings, db, clean_nats, "registry")
    reg = registry_app(reg_settings)
    vou = voucher_app(settings_for(VoucherSettings, db, clean_nats, "voucher"))
    mat = matching_app(settings_for(MatchingSettings, db, clean_nats, "matching"))

    def auth(principal: Principal) -> dict[str, str]:
        return {"X-Seteli-Principal": encode(principal, reg_settings.principal_secret)}

    async with running(reg) as r, running(vou) as v, running(mat) as m:
        provider = (await r.post("/providers", json=application(2))).json()
        pid = provider["id"]
        staff = auth(Principal(sub="staff", role=Role.provider, provider_id=pid))
        admin = auth(Principal(sub="admin", role=Role.region_admin, region="pirkanmaa"))
        again = await r.post(f"/providers/{pid}/accreditations",
                             json={"region": "etela-pohjanmaa"}, headers=staff)
        assert again.status_code == 201, again.text
        until = (date.today() + timedelta(days=200)).isoformat()
        approved = await r.post(f"/providers/{pid}/accreditations/pirkanmaa/decisions",
                                json={"decision": "approve", "reason": "criteria met",
                                      "valid_until": until}, headers=admin)
        assert approved.status_code == 200, approved.text
        details = {k: provider[k] for k in ("contact_name", "contact_email", "description")}
        renamed = await r.put(f"/providers/{pid}", headers=staff | {"If-Match": '"1"'},
                              json=details | {"legal_name": "Uusi Nimi Oy"})
        assert renamed.status_code == 200, renamed.text

        expected = {
            "legal_name": "Uusi Nimi Oy", "business_id": provider["business_id"],
            "regions": ["etela-pohjanmaa", "pirkanmaa"], "status": "approved",
            "states": {"etela-pohjanmaa": "applied", "pirkanmaa": "approved"},
        }

        async def replica(client: httpx.AsyncClient) -> dict[str, object] | None:
            got = await client.get(f"/internal/read-models/providers/{pid}")
            if got.status_code != 200:
                return None
            view = got.json()
            seen = {k: view[k] for k in ("legal_name", "business_id", "regions", "status")}
            seen["states"] = {a["region"]: a["state"] for a in view["accreditations"]}
            return seen if seen == expected else None

        for client in (v, m):
            await eventually(lambda c=client: replica(c), what="replica after four events")
