"""The accreditation lifecycle through the registry API, with its audit log and its events on
JetStream."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from tests.integration.registry.conftest import Registry
from tests.support import application, eventually


def decision(kind: str, reason: str = "decided after review", **extra: object) -> dict[str, object]:
    return {"decision": kind, "reason": reason, **extra}


def future(days: int = 365) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


async def test_whole_lifecycle_with_audit_and_events(registry: Registry) -> None:
    c = registry.client
    p = await registry.apply(1, ("pirkanmaa", "etela-pohjanmaa"))
    pid = p["id"]
    assert {a["region"]: a["state"] for a in p["accreditations"]} == {
        "pirkanmaa": "applied", "etela-pohjanmaa": "applied"}
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    admin = registry.admin("pirkanmaa")

    steps = [
        (decision("approve", valid_until=future()), "approved"),
        (decision("suspend", "complaints under investigation"), "suspended"),
        (decision("reinstate", "complaints resolved"), "approved"),
        (decision("renew", valid_until=future(700)), "approved"),
        (decision("revoke", "serious breach of contract"), "revoked"),
    ]
    version = 1
    for body, state in steps:
        r = await c.post(url, json=body, headers=admin | {"If-Match": str(version)})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == state
        version = r.json()["version"]

    # Approved in one region, still only applied in the other.
    r = await c.get(f"/providers/{pid}", headers=registry.staff(pid))
    states = {a["region"]: a["state"] for a in r.json()["accreditations"]}
    assert states == {"pirkanmaa": "revoked", "etela-pohjanmaa": "applied"}

    # Every decision is in the audit log with actor and reason.
    r = await c.get("/audit-log", headers=admin)
    actions = [e["action"] for e in r.json()["items"]]
    assert actions[:5] == ["accreditation.revoke", "accreditation.renew",
                           "accreditation.reinstate", "accreditation.suspend",
                           "accreditation.approve"]
    assert all(e["actor"] == "admin-pirkanmaa" and e["reason"] for e in r.json()["items"][:5])

    async def all_events() -> list[str] | None:
        types = [e.type.split(".")[3] + "." + e.type.split(".")[4]
                 for e in await registry.events()]
        return types if len(types) >= 7 else None

    # One provider.applied per region applied to, then the decisions in Pirkanmaa.
    types = await eventually(all_events, what="seven events on JetStream")
    assert types == ["provider.applied", "provider.applied", "provider.accredited",
                     "provider.suspended",
                     "provider.reinstated", "provider.accredited", "provider.revoked"]
    last = (await registry.events())[-1]
    assert last.data["state"] == "revoked" and last.data["region"] == "pirkanmaa"
    assert last.data["reason"] == "serious breach of contract"


async def test_reject_then_reapply(registry: Registry) -> None:
    pid = (await registry.apply(2))["id"]
    r = await registry.client.post(f"/providers/{pid}/accreditations/pirkanmaa/decisions",
                                   json=decision("reject", "documents missing"),
                                   headers=registry.admin())
    assert r.json()["state"] == "rejected"
    r = await registry.client.post(f"/providers/{pid}/accreditations",
                                   json={"region": "pirkanmaa"}, headers=registry.staff(pid))
    assert r.status_code == 201 and r.json()["state"] == "applied"
    r = await registry.client.post(f"/providers/{pid}/accreditations",
                                   json={"region": "pohjois-pohjanmaa"},
                                   headers=registry.staff(pid))
    assert r.status_code == 201 and r.json()["region"] == "pohjois-pohjanmaa"


async def test_illegal_transition_is_409_and_changes_nothing(registry: Registry) -> None:
    pid = (await registry.apply(3))["id"]
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    await registry.approve(pid)
    r = await registry.client.post(url, json=decision("revoke", "fraud"),
                                   headers=registry.admin())
    assert r.status_code == 200
    before = len(await registry.published_events())
    rows = await registry.outbox_rows()
    r = await registry.client.post(url, json=decision("approve", valid_until=future()),
                                   headers=registry.admin())
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert "revoked" in r.json()["detail"]
    r = await registry.client.get(f"/providers/{pid}", headers=registry.admin())
    assert r.json()["accreditations"][0]["state"] == "revoked"
    assert await registry.outbox_rows() == rows
    assert len(await registry.published_events()) == before


async def test_admin_of_another_region_is_refused(registry: Registry) -> None:
    pid = (await registry.apply(4))["id"]
    r = await registry.client.post(
        f"/providers/{pid}/accreditations/pirkanmaa/decisions",
        json=decision("approve", valid_until=future()),
        headers=registry.admin("pohjois-pohjanmaa"))
    assert r.status_code == 403
    r = await registry.client.post(
        f"/providers/{pid}/accreditations/pirkanmaa/decisions",
        json=decision("approve", valid_until=future()), headers=registry.staff(pid))
    assert r.status_code == 403
    r = await registry.client.post(
        f"/providers/{pid}/accreditations/pirkanmaa/decisions",
        json=decision("approve", valid_until=future()))
    assert r.status_code == 401


async def test_stale_if_match_is_refused(registry: Registry) -> None:
    pid = (await registry.apply(5))["id"]
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    await registry.approve(pid)
    r = await registry.client.post(url, json=decision("suspend", "check"),
                                   headers=registry.admin() | {"If-Match": '"1"'})
    assert r.status_code == 412


async def test_decision_needs_reason_and_future_valid_until(registry: Registry) -> None:
    pid = (await registry.apply(6))["id"]
    url = f"/providers/{pid}/accreditations/pirkanmaa/decisions"
    r = await registry.client.post(url, json={"decision": "approve", "reason": "",
                                              "valid_until": future()},
                                   headers=registry.admin())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await registry.client.post(url, json=decision("approve"), headers=registry.admin())
    assert r.status_code == 422 and "valid_until" in r.text
    r = await registry.client.post(url, json=decision("approve", valid_until="2001-01-01"),
                                   headers=registry.admin())
    assert r.status_code == 422 and "future" in r.text


async def test_expiry_job(registry: Registry) -> None:
    pid = (await registry.apply(7))["id"]
    await registry.approve(pid)
    rt = registry.app.state.runtime
    # An accreditation whose validity has run out (set in the past directly: the API refuses it)
    async with rt.db.session() as s:
        await s.execute(text("UPDATE accreditation SET valid_until = :d WHERE provider_id = :p"),
                        {"d": date.today() - timedelta(days=1), "p": pid})
        await s.commit()
    r = await registry.client.post("/accreditation-expiry-runs", headers=registry.admin())
    assert r.json() == {"expired": 1}
    r = await registry.client.post("/accreditation-expiry-runs", headers=registry.admin())
    assert r.json() == {"expired": 0}
    r = await registry.client.get(f"/providers/{pid}", headers=registry.staff(pid))
    assert r.json()["accreditations"][0]["state"] == "expired"

    async def expired_event() -> bool:
        return any(e.type.endswith("provider.expired.v1") for e in await registry.events())

    await eventually(expired_event, what="provider.expired on JetStream")


async def test_audit_log_is_append_only(registry: Registry) -> None:
    await registry.apply(8)
    rt = registry.app.state.runtime
    for statement in ("UPDATE audit_log SET reason = 'rewritten'", "DELETE FROM audit_log"):
        async with rt.db.session() as s:
            try:
                await s.execute(text(statement))
                await s.commit()
                raise AssertionError(f"{statement} was allowed")
            except AssertionError:
                raise
            except Exception as exc:
                assert "append-only" in str(exc)
                await s.rollback()


async def test_public_sees_only_approved(registry: Registry) -> None:
    applied = (await registry.apply(9))["id"]
    approved = await registry.accredited_provider(10)
    r = await registry.client.get(f"/providers/{applied}")
    assert r.status_code == 404
    r = await registry.client.get(f"/providers/{approved}")
    assert r.status_code == 200
    listed = [p["id"] for p in (await registry.client.get("/providers")).json()["items"]]
    assert approved in listed and applied not in listed
    queue = await registry.client.get("/providers", params={"state": "applied"},
                                      headers=registry.admin())
    assert [p["id"] for p in queue.json()["items"]] == [applied]
    r = await registry.client.get("/providers", params={"state": "applied"})
    assert r.status_code == 403


async def test_duplicate_business_id_and_idempotent_retry(registry: Registry) -> None:
    body = application(11)
    first = await registry.client.post("/providers", json=body,
                                       headers={"Idempotency-Key": "apply-11"})
    again = await registry.client.post("/providers", json=body,
                                       headers={"Idempotency-Key": "apply-11"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    dup = await registry.client.post("/providers", json=body)
    assert dup.status_code == 409
    assert dup.json()["type"] == "/problems/duplicate-business-id"
    applied = [e for e in await registry.published_events()
               if e.type.endswith("provider.applied.v1")]
    assert len(applied) == 1
