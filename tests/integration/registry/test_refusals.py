"""Refused requests write nothing: no row changes, no audit entry, no outbox event, no
idempotency record. Each case compares every table of the registry before and after."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from tests.integration.registry.conftest import SEEDED_SERVICE_TYPES, Registry, offering_body
from tests.support import application


def future(days: int = 365) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


async def refused(registry: Registry, status: int, method: str, path: str, *,
                  json: Any = None, headers: dict[str, str] | None = None,
                  field: str | None = None) -> dict[str, Any]:
    before = await registry.snapshot()
    r = await registry.client.request(method, path, json=json, headers=headers or {})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    assert await registry.snapshot() == before, f"{method} {path} wrote something"
    return body


async def test_duplicate_business_id(registry: Registry) -> None:
    await registry.apply(1)
    body = await refused(registry, 409, "POST", "/providers",
                         json=application(1) | {"legal_name": "Toinen Oy"},
                         headers={"Idempotency-Key": "second"})
    assert body["type"] == "/problems/duplicate-business-id"
    assert application(1)["business_id"] in body["detail"]


async def test_decisions_refused(registry: Registry) -> None:
    pid = (await registry.apply(2, ("pirkanmaa", "etela-pohjanmaa")))["id"]
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    approve = {"decision": "approve", "reason": "criteria met", "valid_until": future()}
    # an admin of another region: 403, whatever the body
    await refused(registry, 403, "POST", url, json=approve,
                  headers=registry.admin("etela-pohjanmaa"))
    # suspend what is only applied: 409 naming the state
    body = await refused(registry, 409, "POST", url,
                         json={"decision": "suspend", "reason": "complaints"},
                         headers=registry.admin())
    assert "applied" in body["detail"] and body["type"] == "/problems/illegal-transition"
    # a stale version
    await refused(registry, 412, "POST", url, json=approve,
                  headers=registry.admin() | {"If-Match": '"7"'})
    # bad bodies
    await refused(registry, 422, "POST", url, json=approve | {"valid_until": "2000-01-01"},
                  headers=registry.admin(), field="valid_until")
    await refused(registry, 422, "POST", url, json=approve | {"valid_until": future(5000)},
                  headers=registry.admin(), field="valid_until")
    await refused(registry, 422, "POST", url, json=approve | {"valid_until": None},
                  headers=registry.admin(), field="valid_until")
    await refused(registry, 422, "POST", url, json=approve | {"decision": "bless"},
                  headers=registry.admin(), field="decision")
    await refused(registry, 422, "POST", url, json=approve | {"reason": "  "},
                  headers=registry.admin(), field="reason")
    await refused(registry, 422, "POST", url,
                  json={"decision": "reject", "reason": "not suitable",
                        "valid_until": future()},
                  headers=registry.admin(), field="valid_until")
    # a provider that never applied in the region
    await refused(registry, 404, "POST",
                  f"/providers/{pid}/accreditations/pohjois-pohjanmaa/decisions",
                  json=approve, headers=registry.admin("pohjois-pohjanmaa"))
    # revoked is final
    await registry.approve(pid)
    r = await registry.client.post(url, json={"decision": "revoke", "reason": "fraud"},
                                   headers=registry.admin())
    assert r.status_code == 200
    body = await refused(registry, 409, "POST", url, json=approve, headers=registry.admin())
    assert "revoked" in body["detail"]
    # the other region's application is untouched by all of this
    r = await registry.client.get(f"/providers/{pid}", headers=registry.staff(pid))
    states = {a["region"]: a["state"] for a in r.json()["accreditations"]}
    assert states == {"pirkanmaa": "revoked", "etela-pohjanmaa": "applied"}


async def test_offering_changes_refused(registry: Registry) -> None:
    pid = await registry.accredited_provider(3)
    other = await registry.accredited_provider(4)
    o = (await registry.publish(pid)).json()
    url = f"/offerings/{o['id']}"
    staff = registry.staff(pid)
    await refused(registry, 422, "PUT", url, json=offering_body(municipalities=["837", "564"]),
                  headers=staff, field="municipalities.1")
    await refused(registry, 422, "PUT", url, json=offering_body(unit_price_cents=-5),
                  headers=staff, field="unit_price_cents")
    await refused(registry, 422, "PUT", url, json=offering_body(region="etela-pohjanmaa",
                                                                municipalities=["743"]),
                  headers=staff, field="region")
    await refused(registry, 412, "PUT", url, json=offering_body(capacity=1),
                  headers=staff | {"If-Match": '"2"'})
    await refused(registry, 404, "PUT", url, json=offering_body(), headers=registry.staff(other))
    await refused(registry, 404, "POST", f"{url}/withdrawal", headers=registry.staff(other))
    await refused(registry, 403, "PUT", url, json=offering_body(), headers=registry.admin())
    await refused(registry, 401, "PUT", url, json=offering_body())
    r = await registry.client.post(f"{url}/withdrawal", headers=staff)
    assert r.status_code == 200
    await refused(registry, 409, "POST", f"{url}/withdrawal", headers=staff)
    await refused(registry, 409, "PUT", url, json=offering_body(), headers=staff)


async def test_provider_changes_refused(registry: Registry) -> None:
    pid = (await registry.apply(5))["id"]
    other = (await registry.apply(6))["id"]
    details = {k: v for k, v in application(5).items() if k not in ("business_id", "regions")}
    url = f"/providers/{pid}"
    await refused(registry, 412, "PUT", url, json=details | {"legal_name": "Uusi Nimi Oy"},
                  headers=registry.staff(pid) | {"If-Match": '"9"'})
    await refused(registry, 422, "PUT", url, json=details | {"contact_email": "nope"},
                  headers=registry.staff(pid), field="contact_email")
    await refused(registry, 422, "PUT", url, json=details | {"business_id": "2617416-4"},
                  headers=registry.staff(pid), field="business_id")
    # not theirs: 404 before the body is even read, the same as for a provider that does
    # not exist
    for target in (url, "/providers/00000000-0000-0000-0000-000000000000"):
        await refused(registry, 404, "PUT", target, json={"garbage": True},
                      headers=registry.staff(other))
        await refused(registry, 404, "PUT", target, json=details, headers=registry.admin())
        await refused(registry, 401, "PUT", target, json={"garbage": True})


async def test_idempotency_key_reused_for_another_request(registry: Registry) -> None:
    r = await registry.client.post("/providers", json=application(7),
                                   headers={"Idempotency-Key": "k-7"})
    assert r.status_code == 201
    await refused(registry, 422, "POST", "/providers", json=application(8),
                  headers={"Idempotency-Key": "k-7"}, field="Idempotency-Key")


async def test_catalogue_and_keys_refused(registry: Registry) -> None:
    pid = await registry.accredited_provider(9)
    scheme = [{"code": "start", "share_bp": 3000}, {"code": "completion", "share_bp": 6000}]
    new = {"code": "digital-skills", "name": {"fi": "Digitaidot"}, "payment_scheme": scheme}
    await refused(registry, 422, "POST", "/service-types", json=new, headers=registry.admin(),
                  field="payment_scheme")
    balanced = [scheme[0], {"code": "end", "share_bp": 7000}]
    await refused(registry, 403, "POST", "/service-types",
                  json=new | {"payment_scheme": balanced}, headers=registry.staff(pid))
    await refused(registry, 409, "POST", "/service-types",
                  json=new | {"code": "career-guidance",
                              "payment_scheme": [{"code": "start", "share_bp": 10000}]},
                  headers=registry.admin())
    await refused(registry, 422, "POST", f"/providers/{pid}/api-keys", json={"name": ""},
                  headers=registry.staff(pid), field="name")
    await refused(registry, 404, "POST", f"/providers/{pid}/api-keys", json={"name": "x"},
                  headers=registry.admin())


async def test_concurrent_applications_with_one_business_id(registry: Registry) -> None:
    """Racing applications (no idempotency key): exactly one provider, the others a clear
    409 — on PostgreSQL this goes through the unique constraint."""
    body = application(10)
    answers = await asyncio.gather(*(
        registry.client.post("/providers", json=body | {"legal_name": f"Kilpailija {n} Oy"})
        for n in range(6)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in answers]
    assert all(r.json()["type"] == "/problems/duplicate-business-id"
               for r in answers if r.status_code == 409)
    counts = await registry.row_counts()
    assert counts["provider"] == 1 and counts["accreditation"] == 1
    assert counts["outbox"] == SEEDED_SERVICE_TYPES + 1


async def test_concurrent_decisions_take_effect_once(registry: Registry) -> None:
    """Two admins approve at the same moment: one decision, one 409, one event."""
    pid = (await registry.apply(11))["id"]
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    approve = {"decision": "approve", "reason": "criteria met", "valid_until": future()}
    answers = await asyncio.gather(*(
        registry.client.post(url, json=approve,
                             headers=registry.auth_admin(f"admin-{n}", "pirkanmaa"))
        for n in range(4)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409]
    counts = await registry.row_counts()
    assert counts["outbox"] == SEEDED_SERVICE_TYPES + 2  # applied + one accredited
    assert counts["audit_log"] == 2
