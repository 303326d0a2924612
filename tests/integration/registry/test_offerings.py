"""Offerings: publish, update, withdraw, public visibility and search; bad input refused with
the field named and nothing written."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.registry.conftest import SEEDED_SERVICE_TYPES, Registry, offering_body
from tests.support import application


async def test_publish_update_withdraw_with_events(registry: Registry) -> None:
    pid = await registry.accredited_provider(1)
    r = await registry.publish(pid)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["status"] == "published" and o["version"] == 1
    assert o["municipalities"] == ["536", "837"]  # sorted, deduplicated

    r = await registry.client.put(f"/offerings/{o['id']}",
                                  json=offering_body(capacity=3, unit_price_cents=99_000),
                                  headers=registry.staff(pid) | {"If-Match": "1"})
    assert r.status_code == 200 and r.json()["capacity"] == 3 and r.json()["version"] == 2
    r = await registry.client.put(f"/offerings/{o['id']}", json=offering_body(capacity=4),
                                  headers=registry.staff(pid) | {"If-Match": "1"})
    assert r.status_code == 412

    r = await registry.client.post(f"/offerings/{o['id']}/withdrawal",
                                   headers=registry.staff(pid))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = await registry.client.post(f"/offerings/{o['id']}/withdrawal",
                                   headers=registry.staff(pid))
    assert r.status_code == 409

    events = [e for e in await registry.published_events() if ".offering." in e.type]
    assert [e.type.split(".")[4] for e in events] == ["published", "updated", "withdrawn"]
    assert events[1].data["capacity"] == 3 and events[1].data["version"] == 2
    assert events[2].data["status"] == "withdrawn"
    assert (await registry.client.get(f"/offerings/{o['id']}")).status_code == 404


async def test_only_accredited_providers_offerings_are_public(registry: Registry) -> None:
    pid = await registry.accredited_provider(2)
    o = (await registry.publish(pid)).json()
    search = await registry.client.get("/offerings", params={"region": "pirkanmaa"})
    assert [x["id"] for x in search.json()["items"]] == [o["id"]]

    r = await registry.client.post(f"/providers/{pid}/accreditations/pirkanmaa/decisions",
                                   json={"decision": "suspend", "reason": "under review"},
                                   headers=registry.admin())
    assert r.status_code == 200
    search = await registry.client.get("/offerings", params={"region": "pirkanmaa"})
    assert search.json()["items"] == [] and search.json()["total"] == 0
    assert (await registry.client.get(f"/offerings/{o['id']}")).status_code == 404
    # the provider and the region's admin still see it
    own = await registry.client.get(f"/offerings/{o['id']}", headers=registry.staff(pid))
    assert own.status_code == 200
    assert (await registry.client.get(f"/offerings/{o['id']}",
                                      headers=registry.admin())).status_code == 200


async def test_provider_not_accredited_in_region_cannot_publish(registry: Registry) -> None:
    pid = (await registry.apply(3))["id"]  # applied, not approved
    r = await registry.publish(pid)
    assert r.status_code == 409 and r.json()["type"] == "/problems/not-accredited"
    approved = await registry.accredited_provider(4)
    r = await registry.publish(approved, region="etela-pohjanmaa", municipalities=["743"])
    assert r.status_code == 409


async def test_only_own_offerings_can_be_changed(registry: Registry) -> None:
    a = await registry.accredited_provider(5)
    b = await registry.accredited_provider(6)
    o = (await registry.publish(a)).json()
    r = await registry.client.put(f"/offerings/{o['id']}", json=offering_body(),
                                  headers=registry.staff(b))
    assert r.status_code == 404
    r = await registry.client.post(f"/offerings/{o['id']}/withdrawal",
                                   headers=registry.admin())
    assert r.status_code == 403
    r = await registry.client.post("/offerings", json=offering_body())
    assert r.status_code == 401


def _days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


BAD_OFFERINGS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown municipality", {"municipalities": ["999"]}, "municipalities.0"),
    ("municipality outside region", {"municipalities": ["837", "564"]}, "municipalities.1"),
    ("malformed municipality", {"municipalities": ["Tampere"]}, "municipalities.0"),
    ("negative price", {"unit_price_cents": -100}, "unit_price_cents"),
    ("zero price", {"unit_price_cents": 0}, "unit_price_cents"),
    ("absurd price", {"unit_price_cents": 10_000_001}, "unit_price_cents"),
    ("negative capacity", {"capacity": -1}, "capacity"),
    ("unknown language", {"languages": ["fi", "xx"]}, "languages"),
    ("no language", {"languages": []}, "languages"),
    ("overlong title", {"title": {"fi": "x" * 201}}, "title.fi"),
    ("overlong description", {"description": {"fi": "x" * 4001}}, "description.fi"),
    ("no Finnish", {"title": {"en": "Coaching"}}, "title.fi"),
    ("nowhere", {"municipalities": [], "remote": False}, "municipalities"),
    ("start in the past", {"next_start": "2020-01-01"}, "next_start"),
    ("unknown service type", {"service_type": "astrology"}, "service_type"),
    ("mass assignment of status", {"status": "withdrawn"}, "status"),
    ("duration zero", {"duration_days": 0}, "duration_days"),
    ("price not an integer", {"unit_price_cents": 12.5}, "unit_price_cents"),
    ("absurd capacity", {"capacity": 1_000_000}, "capacity"),
    ("language not a code", {"languages": ["finnish"]}, "languages"),
    ("Swedish text overlong", {"description": {"fi": "Kuvaus", "sv": "x" * 4001}},
     "description.sv"),
    ("start absurdly far", {"next_start": "2999-01-01"}, "next_start"),
    ("unknown region", {"region": "atlantis", "municipalities": [], "remote": True}, "region"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_OFFERINGS,
                         ids=[c[0] for c in BAD_OFFERINGS])
async def test_bad_offering_is_refused_naming_the_field(
    registry: Registry, case: str, change: dict[str, Any], field: str
) -> None:
    pid = await registry.accredited_provider(7)
    before = await registry.snapshot()
    r = await registry.client.post("/offerings", json=offering_body(**change),
                                   headers=registry.staff(pid) | {"Idempotency-Key": case})
    assert r.status_code == 422, (case, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), (case, fields)
    assert await registry.snapshot() == before  # no row, no event, no idempotency record
    search = await registry.client.get("/offerings", params={"region": "pirkanmaa"})
    assert search.json()["total"] == 0


BAD_APPLICATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("check digit wrong", {"business_id": "1234567-2"}, "business_id"),
    ("remainder one is never issued", {"business_id": "0000006-0"}, "business_id"),
    ("not a business id", {"business_id": "hello"}, "business_id"),
    ("bad email", {"contact_email": "not-an-email"}, "contact_email"),
    ("overlong name", {"legal_name": "x" * 201}, "legal_name"),
    ("unknown region", {"regions": ["atlantis"]}, "regions.0"),
    ("second region unknown", {"regions": ["pirkanmaa", "atlantis"]}, "regions.1"),
    ("overlong description", {"description": {"fi": "x" * 4001}}, "description.fi"),
    ("bad phone", {"phone": "call me maybe"}, "phone"),
    ("missing contact", {"contact_name": ""}, "contact_name"),
    ("business id with letters", {"business_id": "FI2617416-4x"}, "business_id"),
    ("no regions", {"regions": []}, "regions"),
    ("no Finnish description", {"description": {"sv": "Beskrivning"}}, "description.fi"),
    ("bad website", {"website": "not a url"}, "website"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_APPLICATIONS,
                         ids=[c[0] for c in BAD_APPLICATIONS])
async def test_bad_application_is_refused_naming_the_field(
    registry: Registry, case: str, change: dict[str, Any], field: str
) -> None:
    before = await registry.snapshot()
    r = await registry.client.post("/providers", json=application(8) | change,
                                   headers={"Idempotency-Key": case})
    assert r.status_code == 422, (case, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert field in fields, (case, fields)
    assert await registry.snapshot() == before
    assert before["counts"]["provider"] == 0
    assert before["counts"]["outbox"] == SEEDED_SERVICE_TYPES  # only the catalogue announced
    assert (await registry.client.get("/providers", params={"state": "applied"},
                                      headers=registry.admin())).json()["items"] == []


async def test_search_filters_sort_and_pagination(registry: Registry) -> None:
    a = await registry.accredited_provider(10)
    b = await registry.accredited_provider(11)
    c = await registry.accredited_provider(12, region="pohjois-pohjanmaa")
    made = [
        (await registry.publish(a, next_start=_days(30), languages=["fi"])).json(),
        (await registry.publish(a, next_start=_days(10), languages=["fi", "sv"],
                                municipalities=["837"])).json(),
        (await registry.publish(b, next_start=_days(10), remote=True, municipalities=[],
                                service_type="career-guidance",
                                title={"fi": "Uraohjaus etänä", "en": "Remote career guidance"})
         ).json(),
        (await registry.publish(b, next_start=_days(20), languages=["en", "ar"])).json(),
        (await registry.publish(c, region="pohjois-pohjanmaa", municipalities=["564"])).json(),
    ]
    assert all("id" in m for m in made), made

    async def ids(**params: Any) -> list[str]:
        r = await registry.client.get("/offerings", params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    pirkanmaa = await ids(region="pirkanmaa")
    assert len(pirkanmaa) == 4
    starts = [o["next_start"] for o in made[:4]]
    assert sorted(starts) == [next(o["next_start"] for o in made if o["id"] == i)
                              for i in pirkanmaa]
    assert await ids(region="pirkanmaa", language="sv") == [made[1]["id"]]
    assert await ids(region="pirkanmaa", language="ar") == [made[3]["id"]]
    assert await ids(remote=True) == [made[2]["id"]]
    assert await ids(service_type="career-guidance") == [made[2]["id"]]
    assert await ids(municipality="564") == [made[4]["id"]]
    assert await ids(q="ETÄNÄ uraohjaus") == [made[2]["id"]]
    assert await ids(q="100%_") == []

    # pages of two: stable, complete, no repeats, total on every page
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"region": "pirkanmaa", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await registry.client.get("/offerings", params=params)).json()
        assert page["total"] == 4
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == pirkanmaa
    r = await registry.client.get("/offerings", params={"cursor": "garbage!"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    r = await registry.client.get("/offerings", params={"limit": 500})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


async def test_regions_and_catalogue(registry: Registry) -> None:
    regions = (await registry.client.get("/regions")).json()
    by_code = {r["code"]: r for r in regions}
    assert set(by_code) == {"pirkanmaa", "pohjois-pohjanmaa", "etela-pohjanmaa"}
    tampere = next(m for m in by_code["pirkanmaa"]["municipalities"] if m["code"] == "837")
    assert tampere["name"]["fi"] == "Tampere" and tampere["name"]["sv"] == "Tammerfors"
    assert (await registry.client.get("/regions/atlantis")).status_code == 404

    types = (await registry.client.get("/service-types")).json()
    assert {t["code"] for t in types} >= {"job-search-coaching", "career-guidance",
                                          "competence-training", "recruitment-help",
                                          "business-development", "internationalisation"}
    assert all(sum(m["share_bp"] for m in t["payment_scheme"]) == 10_000 for t in types)

    new = {"code": "digital-skills", "name": {"fi": "Digitaidot", "sv": "Digitala färdigheter"},
           "payment_scheme": [{"code": "start", "share_bp": 5000},
                              {"code": "completion", "share_bp": 5000}]}
    r = await registry.client.post("/service-types", json=new, headers=registry.admin())
    assert r.status_code == 201
    r = await registry.client.post("/service-types", json=new, headers=registry.admin())
    assert r.status_code == 409
    bad = new | {"code": "broken", "payment_scheme": [{"code": "start", "share_bp": 4000}]}
    r = await registry.client.post("/service-types", json=bad, headers=registry.admin())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "payment_scheme"
    pid = await registry.accredited_provider(13)
    r = await registry.client.post("/service-types", json=new | {"code": "x-type"},
                                   headers=registry.staff(pid))
    assert r.status_code == 403
