"""An offering's premises, their accessibility, whether new customers are taken now, and when
each part of the offering last changed: stored, shown, carried by the events, refused with the
field named when wrong, and accepted by the bulk import."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.registry import OfferingPublished
from tests.integration.registry.conftest import Registry, offering_body

PREMISES = {"street_address": "Hämeenkatu 1 B", "postcode": "33100", "post_office": "Tampere",
            "accessibility": ["lift", "step_free_entrance", "lift"],
            "accessibility_note": "Ovikello katutasossa.", "accepting_new_customers": False}
PARTS = ("details_updated_at", "places_updated_at", "premises_updated_at")


async def test_premises_are_stored_shown_and_carried_by_the_events(registry: Registry) -> None:
    pid = await registry.accredited_provider(41)
    r = await registry.publish(pid, **PREMISES)
    assert r.status_code == 201, r.text
    o = r.json()
    assert (o["street_address"], o["postcode"], o["post_office"]) == (
        "Hämeenkatu 1 B", "33100", "Tampere")
    assert o["accessibility"] == ["step_free_entrance", "lift"]  # one order, once each
    assert o["accessibility_note"] == "Ovikello katutasossa."
    assert o["accepting_new_customers"] is False
    assert {o[p] for p in PARTS} == {o["updated_at"]}

    public = (await registry.client.get(f"/offerings/{o['id']}")).json()
    assert public["street_address"] == "Hämeenkatu 1 B" and public["accessibility"] == [
        "step_free_entrance", "lift"]
    found = (await registry.client.get("/offerings", params={"region": "pirkanmaa"})).json()
    assert found["items"][0]["post_office"] == "Tampere"
    assert found["items"][0]["accepting_new_customers"] is False

    event = next(e for e in await registry.published_events() if ".offering." in e.type)
    assert event.data["street_address"] == "Hämeenkatu 1 B"
    assert event.data["accessibility"] == ["step_free_entrance", "lift"]
    assert event.data["accepting_new_customers"] is False
    assert event.data["premises_updated_at"] is not None


async def test_without_premises_the_defaults_hold(registry: Registry) -> None:
    pid = await registry.accredited_provider(42)
    o = (await registry.publish(pid, municipalities=[], remote=True)).json()
    assert o["street_address"] is None and o["postcode"] is None and o["post_office"] is None
    assert o["accessibility"] == [] and o["accessibility_note"] is None
    assert o["accepting_new_customers"] is True


async def test_each_part_is_dated_only_when_it_changes(registry: Registry) -> None:
    pid = await registry.accredited_provider(43)
    body = offering_body(**PREMISES)
    o = (await registry.publish(pid, **PREMISES)).json()

    async def put(**change: Any) -> dict[str, Any]:
        nonlocal body
        body = body | change
        r = await registry.client.put(f"/offerings/{o['id']}", json=body,
                                      headers=registry.staff(pid) | {"If-Match": str(v)})
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    v = 1
    same = await put()  # nothing changed: no part is dated again
    assert [same[p] for p in PARTS] == [o[p] for p in PARTS]
    v = 2
    places = await put(capacity=3)
    assert places["places_updated_at"] > o["places_updated_at"]
    assert places["details_updated_at"] == o["details_updated_at"]
    assert places["premises_updated_at"] == o["premises_updated_at"]
    v = 3
    access = await put(accessibility=["induction_loop"])
    assert access["premises_updated_at"] > places["premises_updated_at"]
    assert access["places_updated_at"] == places["places_updated_at"]
    assert access["details_updated_at"] == o["details_updated_at"]
    v = 4
    price = await put(unit_price_cents=99_000)
    assert price["details_updated_at"] > o["details_updated_at"]
    assert price["places_updated_at"] == places["places_updated_at"]
    assert price["premises_updated_at"] == access["premises_updated_at"]
    v = 5
    taking = await put(accepting_new_customers=True)
    assert taking["places_updated_at"] > places["places_updated_at"]
    assert taking["details_updated_at"] == price["details_updated_at"]

    events = [e for e in await registry.published_events() if ".offering." in e.type]
    assert events[-1].data["places_updated_at"] is not None
    assert events[-1].data["accepting_new_customers"] is True


BAD_PREMISES: list[tuple[str, dict[str, Any], str]] = [
    ("postcode not five digits", {"street_address": "Katu 1", "postcode": "3310",
                                  "post_office": "Tampere"}, "postcode"),
    ("postcode letters", {"street_address": "Katu 1", "postcode": "FI-33100",
                          "post_office": "Tampere"}, "postcode"),
    ("street without postcode", {"street_address": "Katu 1", "post_office": "Tampere"},
     "postcode"),
    ("post office alone", {"post_office": "Tampere"}, "street_address"),
    ("street with bidi override", {"street_address": "Katu \u202e1", "postcode": "33100",
                                   "post_office": "Tampere"}, "street_address"),
    ("street with a line break", {"street_address": "Katu 1\nB", "postcode": "33100",
                                  "post_office": "Tampere"}, "street_address"),
    ("overlong street", {"street_address": "x" * 201, "postcode": "33100",
                         "post_office": "Tampere"}, "street_address"),
    ("unknown accessibility", {"accessibility": ["lift", "helipad"]}, "accessibility.1"),
    ("accessibility not a list", {"accessibility": "lift"}, "accessibility"),
    ("note with control character", {"accessibility_note": "Ovi\x00"}, "accessibility_note"),
    ("overlong note", {"accessibility_note": "x" * 501}, "accessibility_note"),
    ("new customers not a boolean", {"accepting_new_customers": "yes"},
     "accepting_new_customers"),
    ("new customers as a number", {"accepting_new_customers": 1}, "accepting_new_customers"),
    ("part time set by the client", {"places_updated_at": "2020-01-01T00:00:00Z"},
     "places_updated_at"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_PREMISES,
                         ids=[c[0] for c in BAD_PREMISES])
async def test_bad_premises_are_refused_naming_the_field(
    registry: Registry, case: str, change: dict[str, Any], field: str
) -> None:
    pid = await registry.accredited_provider(44)
    before = await registry.snapshot()
    r = await registry.client.post("/offerings", json=offering_body(**change),
                                   headers=registry.staff(pid) | {"Idempotency-Key": case})
    assert r.status_code == 422, (case, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert field in fields, (case, fields)
    assert await registry.snapshot() == before


async def test_the_import_takes_the_fields_and_names_a_wrong_row(registry: Registry) -> None:
    pid = await registry.accredited_provider(45)
    items = [offering_body(**PREMISES), offering_body(street_address="Katu 1")]
    before = await registry.snapshot()
    r = await registry.client.post("/offerings/imports", json={"items": items},
                                   headers=registry.staff(pid))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"items.1.postcode", "items.1.post_office"}
    assert await registry.snapshot() == before

    r = await registry.client.post("/offerings/imports", json={"items": items[:1]},
                                   headers=registry.staff(pid))
    assert r.status_code == 201, r.text
    o = (await registry.client.get(f"/offerings/{r.json()['items'][0]['id']}")).json()
    assert o["postcode"] == "33100" and o["accepting_new_customers"] is False
    assert {o[p] for p in PARTS} == {o["updated_at"]}


def test_an_event_from_before_the_fields_still_parses() -> None:
    old = {"offering_id": "o1", "provider_id": "p1", "region": "pirkanmaa",
           "service_type": "job-search-coaching", "title": {"fi": "Valmennus"},
           "municipalities": ["837"], "remote": False, "languages": ["fi"],
           "unit_price_cents": 1000, "capacity": 1, "next_start": "2026-12-01",
           "duration_days": 10, "status": "published", "version": 1}
    e = OfferingPublished.model_validate(old)
    assert e.street_address is None and e.accessibility == []
    assert e.accepting_new_customers is None and e.premises_updated_at is None


async def test_offerings_named_by_id_in_one_request(registry: Registry) -> None:
    pid = await registry.accredited_provider(46)
    a = (await registry.publish(pid, **PREMISES)).json()
    b = (await registry.publish(pid)).json()
    hidden = (await registry.publish(pid)).json()
    r = await registry.client.post(f"/offerings/{hidden['id']}/withdrawal",
                                   headers=registry.staff(pid))
    assert r.status_code == 200
    ids = [b["id"], "no-such-offering", a["id"], hidden["id"], b["id"]]
    r = await registry.client.get("/offerings", params={"id": ids})
    assert r.status_code == 200, r.text
    got = r.json()
    assert [o["id"] for o in got["items"]] == [b["id"], a["id"]]  # in order, once, visible
    assert got["items"][1]["street_address"] == "Hämeenkatu 1 B"
    assert got["total"] == 2 and got["next_cursor"] is None
    # the provider's own staff also see the withdrawn one, as GET /offerings/{id} shows it
    own = await registry.client.get("/offerings", params={"id": [hidden["id"]]},
                                    headers=registry.staff(pid))
    assert [o["id"] for o in own.json()["items"]] == [hidden["id"]]
    for bad, field in (({"id": [a["id"]], "region": "pirkanmaa"}, "id"),
                       ({"id": [a["id"]] * 51}, "id"), ({"id": ["x" * 37]}, "id.0")):
        r = await registry.client.get("/offerings", params=bad)
        assert r.status_code == 422, bad
        assert field in [e["field"] for e in r.json()["errors"]]
