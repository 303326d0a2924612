"""The events of a whole provider lifecycle as a subscriber on JetStream's subjects sees them,
and the public search following every accreditation change at once."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import nats
from nats.aio.msg import Msg
from sqlalchemy import text

from contracts.events import Envelope
from services.registry.main import create_app
from services.registry.settings import Settings
from tests.integration.registry.conftest import Registry, offering_body
from tests.support import DbFactory, application, eventually, running, service_settings


def future(days: int = 365) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


async def expire_now(registry: Registry, provider_id: str) -> None:
    """Put the validity in the past (the API refuses such a date) and run the job."""
    async with registry.app.state.runtime.db.session() as s:
        await s.execute(text("UPDATE accreditation SET valid_until = :d WHERE provider_id = :p"),
                        {"d": date.today() - timedelta(days=1), "p": provider_id})
        await s.commit()
    r = await registry.client.post("/accreditation-expiry-runs", headers=registry.admin())
    assert r.json() == {"expired": 1}


async def test_lifecycle_as_seen_on_the_subjects(registry: Registry) -> None:
    nc = await nats.connect(registry.nats_url)
    seen: list[Msg] = []

    async def collect(msg: Msg) -> None:
        seen.append(msg)

    await nc.subscribe("seteli.registry.v1.>", cb=collect)
    await nc.flush()
    try:
        await _lifecycle(registry)

        async def all_seen() -> bool:
            return len(seen) >= 16

        await eventually(all_seen, what="sixteen events on seteli.registry.v1.>")
        await asyncio.sleep(0.3)  # nothing more should come
    finally:
        await nc.close()

    subjects = [m.subject.removeprefix("seteli.registry.v1.") for m in seen]
    assert subjects == [  # one provider.applied per region applied to
        "provider.applied", "provider.applied", "provider.accredited", "offering.published",
        "offering.updated",
        "provider.suspended", "provider.reinstated", "provider.accredited",
        "provider.expired", "offering.withdrawn", "provider.reapplied", "provider.accredited",
        "provider.rejected", "provider.updated", "provider.revoked",
        "service_type.added",
    ]
    envelopes = [Envelope.model_validate_json(m.data) for m in seen]
    for msg, env in zip(seen, envelopes, strict=True):
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == env.id
        assert env.source == "/seteli/registry" and env.type.startswith("fi.seteli.registry.")
    assert len({e.id for e in envelopes}) == len(envelopes)

    pirkanmaa = [e.data for e in envelopes
                 if e.data.get("region") == "pirkanmaa" and "state" in e.data
                 and not e.type.endswith("provider.applied.v1")]
    assert [d["state"] for d in pirkanmaa] == [
        "approved", "suspended", "approved", "approved", "expired", "applied", "approved",
        "revoked"]
    versions = [d["version"] for d in pirkanmaa]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert all(d["reason"] and d["business_id"] and d["legal_name"] for d in pirkanmaa)
    assert pirkanmaa[0]["valid_until"] == future()
    assert pirkanmaa[3]["valid_until"] == future(700)
    rejected = next(e.data for e in envelopes if e.type.endswith("provider.rejected.v1"))
    assert rejected["region"] == "etela-pohjanmaa" and rejected["state"] == "rejected"

    published = next(e.data for e in envelopes if e.type.endswith("offering.published.v1"))
    for field in ("offering_id", "provider_id", "region", "service_type", "municipalities",
                  "remote", "languages", "unit_price_cents", "capacity", "next_start",
                  "duration_days", "title", "description", "status", "version"):
        assert field in published, field
    assert published["municipalities"] == ["536", "837"] and published["languages"] == ["fi", "en"]
    updated = next(e.data for e in envelopes if e.type.endswith("offering.updated.v1"))
    assert updated["capacity"] == 3 and updated["version"] == 2
    withdrawn = next(e.data for e in envelopes if e.type.endswith("offering.withdrawn.v1"))
    assert withdrawn["status"] == "withdrawn" and withdrawn["version"] == 3


async def _lifecycle(registry: Registry) -> None:
    c = registry.client
    pid = (await registry.apply(1, ("pirkanmaa", "etela-pohjanmaa")))["id"]
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    admin = registry.admin()

    async def decide(kind: str, **extra: Any) -> dict[str, Any]:
        r = await c.post(url, json={"decision": kind, "reason": f"{kind}: reviewed", **extra},
                         headers=admin)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert r.headers["etag"] == f'"{body["version"]}"'
        return body

    async def public() -> list[str]:
        page = (await c.get("/offerings", params={"region": "pirkanmaa"})).json()
        return [o["id"] for o in page["items"]]

    await decide("approve", valid_until=future())
    o = (await registry.publish(pid)).json()
    r = await c.put(f"/offerings/{o['id']}", json=offering_body(capacity=3),
                    headers=registry.staff(pid) | {"If-Match": '"1"'})
    assert r.status_code == 200
    assert await public() == [o["id"]]

    await decide("suspend")
    assert await public() == []
    await decide("reinstate")
    assert await public() == [o["id"]]
    await decide("renew", valid_until=future(700))

    await expire_now(registry, pid)
    assert await public() == []
    assert (await c.get(f"/offerings/{o['id']}")).status_code == 404
    r = await c.post(f"/offerings/{o['id']}/withdrawal", headers=registry.staff(pid))
    assert r.status_code == 200

    r = await c.post(f"/providers/{pid}/accreditations", json={"region": "pirkanmaa"},
                     headers=registry.staff(pid))
    assert r.status_code == 201 and r.json()["state"] == "applied"
    await decide("approve", valid_until=future())
    assert await public() == []  # withdrawn stays withdrawn

    r = await c.post(f"/providers/{pid}/accreditations/etela-pohjanmaa/decisions",
                     json={"decision": "reject", "reason": "no office in the region"},
                     headers=registry.admin("etela-pohjanmaa"))
    assert r.status_code == 200
    body = application(1) | {"contact_name": "Uusi Yhteyshenkilö"}
    r = await c.put(f"/providers/{pid}", json={k: v for k, v in body.items()
                                               if k not in ("business_id", "regions")},
                    headers=registry.staff(pid))
    assert r.status_code == 200
    await decide("revoke")
    r = await c.post("/service-types", headers=admin, json={
        "code": "digital-skills", "name": {"fi": "Digitaidot", "en": "Digital skills"},
        "payment_scheme": [{"code": "start", "share_bp": 5000},
                           {"code": "completion", "share_bp": 5000}]})
    assert r.status_code == 201


async def test_expiry_job_runs_by_itself(db: DbFactory, clean_nats: str) -> None:
    target = db.new("registry")
    settings = service_settings(Settings, target, clean_nats, expiry_interval_seconds=0.2)
    app = create_app(settings)
    async with running(app) as client:
        registry = Registry(client, app, clean_nats, settings.principal_secret)
        pid = await registry.accredited_provider(2)
        keep = await registry.accredited_provider(3)
        o = (await registry.publish(pid)).json()
        async with app.state.runtime.db.session() as s:
            await s.execute(text("UPDATE accreditation SET valid_until = :d "
                                 "WHERE provider_id = :p"),
                            {"d": date.today() - timedelta(days=1), "p": pid})
            await s.commit()

        async def state_of(provider_id: str) -> str:
            r = await client.get(f"/providers/{provider_id}",
                                 headers=registry.staff(provider_id))
            return str(r.json()["accreditations"][0]["state"])

        async def expired() -> bool:
            return await state_of(pid) == "expired"

        await eventually(expired, what="the job expired the accreditation")
        assert await state_of(keep) == "approved"  # valid until next year
        page = (await client.get("/offerings")).json()
        assert o["id"] not in [x["id"] for x in page["items"]]
        history = (await client.get(f"/providers/{pid}/history",
                                    headers=registry.staff(pid))).json()["items"]
        assert history[0]["action"] == "accreditation.expire"
        assert history[0]["actor"] == "registry-expiry-job"
        assert "passed" in history[0]["reason"]

        async def event() -> bool:
            return any(e.type.endswith("provider.expired.v1") for e in await registry.events())

        await eventually(event, what="provider.expired on JetStream")
