"""The voucher service's read models of accreditations and offerings follow the registry's
events, and an older event arriving late never overwrites a newer state."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import nats
from sqlalchemy import select

from contracts.principal import Principal, Role, encode
from contracts.registry import LocalizedText, OfferingUpdated, ProviderSuspended
from services.registry.main import create_app as registry_app
from services.registry.settings import Settings as RegistrySettings
from services.voucher.main import create_app as voucher_app
from services.voucher.models import AccreditationView, OfferingView
from services.voucher.settings import Settings as VoucherSettings
from tests.integration.registry.conftest import offering_body
from tests.support import DbFactory, application, eventually, running, service_settings


async def test_accreditation_and_offering_views(db: DbFactory, clean_nats: str) -> None:
    reg = registry_app(service_settings(RegistrySettings, db.new("registry"), clean_nats))
    vou = voucher_app(service_settings(VoucherSettings, db.new("voucher"), clean_nats))
    secret = RegistrySettings().principal_secret
    admin = {"X-Seteli-Principal": encode(
        Principal(sub="a", role=Role.region_admin, region="pirkanmaa"), secret)}
    async with running(reg) as r, running(vou):
        pid = (await r.post("/providers", json=application(1))).json()["id"]
        staff = {"X-Seteli-Principal": encode(
            Principal(sub="s", role=Role.provider, provider_id=pid), secret)}
        url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
        until = (date.today() + timedelta(days=100)).isoformat()
        assert (await r.post(url, json={"decision": "approve", "reason": "criteria met",
                                        "valid_until": until}, headers=admin)).status_code == 200
        o = (await r.post("/offerings", json=offering_body(capacity=7), headers=staff)).json()
        await r.put(f"/offerings/{o['id']}", json=offering_body(capacity=3), headers=staff)
        await r.post(url, json={"decision": "suspend", "reason": "complaints"}, headers=admin)

        db_v = vou.state.runtime.db

        async def views() -> tuple[str, int, int] | None:
            async with db_v.reader() as s:
                acc = await s.get(AccreditationView, (pid, "pirkanmaa"))
                off = await s.get(OfferingView, o["id"])
            if acc is None or off is None or acc.state != "suspended" or off.version != 2:
                return None
            return acc.state, acc.version, off.capacity

        _, acc_version, capacity = await eventually(views, what="voucher read models")
        assert capacity == 3

        # A stale event delivered late (older versions) changes nothing.
        nc = await nats.connect(clean_nats)
        try:
            js = nc.jetstream()
            stale_acc = ProviderSuspended(provider_id=pid, region="pirkanmaa", state="approved",
                                          version=acc_version - 1).envelope()
            stale_off = OfferingUpdated(
                offering_id=o["id"], provider_id=pid, region="pirkanmaa",
                service_type="job-search-coaching", title=LocalizedText(fi="x"),
                municipalities=["837"], remote=False, languages=["fi"], unit_price_cents=1,
                capacity=99, next_start=date.today(), duration_days=1, status="published",
                version=1).envelope()
            for env, subject in ((stale_acc, ProviderSuspended.subject()),
                                 (stale_off, OfferingUpdated.subject())):
                await js.publish(subject, json.dumps(env.model_dump(mode="json")).encode(),
                                 headers={"Nats-Msg-Id": uuid.uuid4().hex})
        finally:
            await nc.close()

        async def stale_consumed() -> bool:
            from services.voucher.models import plumbing as tables

            async with db_v.reader() as s:
                ids = set((await s.scalars(select(tables.inbox.c.event_id))).all())
            return {stale_acc.id, stale_off.id} <= ids

        await eventually(stale_consumed, what="stale events consumed")
        async with db_v.reader() as s:
            acc = await s.get(AccreditationView, (pid, "pirkanmaa"))
            off = await s.get(OfferingView, o["id"])
        assert acc is not None and off is not None
        assert (acc.state, off.capacity) == ("suspended", 3)
