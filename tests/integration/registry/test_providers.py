"""Providers after applying: changing their details, applying in more regions, entity tags,
and the lists of their own offerings."""

from __future__ import annotations

from typing import Any

from tests.integration.registry.conftest import Registry
from tests.support import application


def details(i: int, **over: Any) -> dict[str, Any]:
    body = {k: v for k, v in application(i).items() if k not in ("business_id", "regions")}
    return body | over


async def test_provider_changes_its_details(registry: Registry) -> None:
    pid = await registry.accredited_provider(1)
    o = (await registry.publish(pid)).json()
    r = await registry.client.get(f"/providers/{pid}")
    assert r.headers["etag"] == '"1"' and r.json()["version"] == 1

    new = details(1, legal_name="Uusi Polku Oy", phone="+358 40 765 4321",
                  website="https://uusipolku.example.fi",
                  description={"fi": "Uraohjausta", "sv": "Karriärvägledning"})
    r = await registry.client.put(f"/providers/{pid}", json=new,
                                  headers=registry.staff(pid) | {"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    got = r.json()
    assert got["legal_name"] == "Uusi Polku Oy" and got["version"] == 2
    assert got["business_id"] == application(1)["business_id"]  # never changes

    # the new name is found by free text at once, the old one no longer
    async def found(q: str) -> list[str]:
        page = (await registry.client.get("/offerings", params={"q": q})).json()
        return [x["id"] for x in page["items"]]

    assert await found("uusi polku") == [o["id"]]
    assert await found("palvelu 1 oy") == []
    r = await registry.client.get(f"/offerings/{o['id']}")
    assert r.json()["provider_name"] == "Uusi Polku Oy"

    # the same details again change nothing: no new version, no event
    events = len(await registry.published_events())
    r = await registry.client.put(f"/providers/{pid}", json=new, headers=registry.staff(pid))
    assert r.json()["version"] == 2
    assert len(await registry.published_events()) == events

    updated = [e for e in await registry.published_events()
               if e.type == "fi.seteli.registry.provider.updated.v1"]
    assert len(updated) == 1
    assert updated[0].data == {"provider_id": pid, "business_id": got["business_id"],
                               "legal_name": "Uusi Polku Oy", "version": 2}
    history = (await registry.client.get(f"/providers/{pid}/history",
                                         headers=registry.staff(pid))).json()["items"]
    assert history[0]["action"] == "provider.updated"
    assert history[0]["details"]["legal_name_before"] == "Palvelu 1 Oy"


async def test_if_match_forms(registry: Registry) -> None:
    pid = (await registry.apply(2))["id"]
    url = f"/providers/{pid}"
    staff = registry.staff(pid)
    for n, tag in enumerate(['"1"', 'W/"2"', '"0", "3"', "*", "5"], start=1):
        r = await registry.client.put(url, json=details(2, contact_name=f"Yhteys {n}"),
                                      headers=staff | {"If-Match": tag})
        assert r.status_code == 200, (tag, r.text)
        assert r.json()["version"] == n + 1
    r = await registry.client.put(url, json=details(2, contact_name="Myöhässä"),
                                  headers=staff | {"If-Match": '"1"'})
    assert r.status_code == 412 and r.json()["type"] == "/problems/version-mismatch"


async def test_apply_in_another_region_with_idempotency_key(registry: Registry) -> None:
    pid = (await registry.apply(3))["id"]
    url = f"/providers/{pid}/accreditations"
    headers = registry.staff(pid) | {"Idempotency-Key": "more-regions"}
    first = await registry.client.post(url, json={"region": "etela-pohjanmaa"}, headers=headers)
    again = await registry.client.post(url, json={"region": "etela-pohjanmaa"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    applied = [e for e in await registry.published_events()
               if e.type.endswith("provider.applied.v1")]
    assert [e.data["regions"] for e in applied] == [["pirkanmaa"], ["etela-pohjanmaa"]]
    # applying again where the application is pending is a conflict, not a new application
    r = await registry.client.post(url, json={"region": "pirkanmaa"},
                                   headers=registry.staff(pid))
    assert r.status_code == 409 and "applied" in r.json()["detail"]
    r = await registry.client.post(url, json={"region": "atlantis"}, headers=registry.staff(pid))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region"
    # someone else cannot apply on the provider's behalf
    r = await registry.client.post(url, json={"region": "pohjois-pohjanmaa"},
                                   headers=registry.admin())
    assert r.status_code == 404


async def test_approved_in_one_region_only(registry: Registry) -> None:
    pid = (await registry.apply(4, ("pirkanmaa", "pohjois-pohjanmaa")))["id"]
    await registry.approve(pid, "pirkanmaa")
    public = (await registry.client.get(f"/providers/{pid}")).json()
    assert [(a["region"], a["state"]) for a in public["accreditations"]] == [
        ("pirkanmaa", "approved")]
    # the other region's admin sees its pending application, not more
    theirs = (await registry.client.get(f"/providers/{pid}",
                                        headers=registry.admin("pohjois-pohjanmaa"))).json()
    assert {a["region"]: a["state"] for a in theirs["accreditations"]} == {
        "pirkanmaa": "approved", "pohjois-pohjanmaa": "applied"}
    listed = (await registry.client.get("/providers",
                                        params={"region": "pohjois-pohjanmaa"})).json()
    assert listed["items"] == []
    r = await registry.publish(pid, region="pohjois-pohjanmaa", municipalities=["564"])
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-accredited"
    assert (await registry.publish(pid)).status_code == 201


async def test_own_and_region_offering_lists(registry: Registry) -> None:
    a = await registry.accredited_provider(5)
    b = await registry.accredited_provider(6)
    shown = (await registry.publish(a)).json()
    gone = (await registry.publish(a, capacity=0)).json()
    await registry.client.post(f"/offerings/{gone['id']}/withdrawal", headers=registry.staff(a))
    theirs = (await registry.publish(b)).json()

    async def ids(headers: dict[str, str] | None = None, **params: Any) -> list[str]:
        r = await registry.client.get("/offerings", params=params, headers=headers or {})
        assert r.status_code == 200, r.text
        return sorted(x["id"] for x in r.json()["items"])

    assert await ids(provider_id=a) == [shown["id"]]
    assert await ids(registry.staff(a), visibility="all") == sorted([shown["id"], gone["id"]])
    assert await ids(registry.admin(), visibility="all") == sorted(
        [shown["id"], gone["id"], theirs["id"]])
    assert await ids(registry.admin("etela-pohjanmaa"), visibility="all") == []
    for headers, params in ((registry.staff(b), {"provider_id": a}),
                            (registry.admin(), {"region": "etela-pohjanmaa"}),
                            ({}, {}),
                            (registry.auth_citizen(), {})):
        r = await registry.client.get("/offerings", params=params | {"visibility": "all"},
                                      headers=headers)
        assert r.status_code == 403, (headers, params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    page = (await registry.client.get("/offerings", params={"visibility": "all"},
                                      headers=registry.staff(a))).json()
    by_id = {x["id"]: x for x in page["items"]}
    assert by_id[gone["id"]]["status"] == "withdrawn" and not by_id[gone["id"]]["visible"]
    assert by_id[shown["id"]]["visible"] and page["total"] == 2
