"""The bulk import of offerings: a report per row, a retry that creates nothing, and a refusal
that names every wrong row and writes nothing."""

from __future__ import annotations

from tests.integration.registry.conftest import Registry, offering_body


async def test_import_reports_each_row_and_a_retry_creates_nothing(registry: Registry) -> None:
    pid = await registry.accredited_provider(60)
    items = [offering_body(title={"fi": f"Valmennus {i}"}, capacity=i) for i in range(5)]
    key = {"Idempotency-Key": "import-1"}
    r = await registry.client.post("/offerings/imports", json={"items": items},
                                   headers=registry.staff(pid) | key)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["created"] == 5
    assert [row["index"] for row in report["items"]] == [0, 1, 2, 3, 4]
    for row, item in zip(report["items"], items, strict=True):
        o = (await registry.client.get(f"/offerings/{row['id']}")).json()
        assert o["title"]["fi"] == item["title"]["fi"] and o["capacity"] == item["capacity"]
        assert o["provider_id"] == pid and o["visible"]
    before = await registry.row_counts()
    again = await registry.client.post("/offerings/imports", json={"items": items},
                                       headers=registry.staff(pid) | key)
    assert again.status_code == 201 and again.json() == report
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await registry.row_counts() == before
    events = [e for e in await registry.published_events() if ".offering." in e.type]
    assert sorted(e.data["offering_id"] for e in events) == sorted(
        row["id"] for row in report["items"])
    assert {e.type.split(".")[4] for e in events} == {"published"}
    found = (await registry.client.get("/offerings", params={"q": "valmennus 3"})).json()
    assert [x["id"] for x in found["items"]] == [report["items"][3]["id"]]


async def test_a_wrong_row_refuses_the_import_and_writes_nothing(registry: Registry) -> None:
    pid = await registry.accredited_provider(61)
    await registry.apply(62, ("pohjois-pohjanmaa",))
    before = await registry.snapshot()
    items = [offering_body(), offering_body(municipalities=["564"]),
             offering_body(region="pohjois-pohjanmaa", municipalities=["564"]),
             offering_body(service_type="astrology"), offering_body(languages=["xx"])]
    r = await registry.client.post("/offerings/imports", json={"items": items},
                                   headers=registry.staff(pid))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["items.4.languages"]  # the shape is checked first
    items.pop()
    r = await registry.client.post("/offerings/imports", json={"items": items},
                                   headers=registry.staff(pid))
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["items.1.municipalities.0", "items.3.service_type", "items.2.region"]
    assert await registry.snapshot() == before
    for body in ({"items": []}, {"items": [offering_body()] * 501}, {}):
        r = await registry.client.post("/offerings/imports", json=body,
                                       headers=registry.staff(pid))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items", r.text
    r = await registry.client.post("/offerings/imports", json={"items": [offering_body()]})
    assert r.status_code == 401
    assert await registry.snapshot() == before
