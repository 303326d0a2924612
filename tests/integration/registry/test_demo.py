"""The demo data loads through the API and loading it twice changes nothing."""

from __future__ import annotations

from services.registry import demo
from tests.integration.registry.conftest import Registry


async def test_demo_data_loads_once(registry: Registry) -> None:
    await demo.load(registry.client, registry.secret)
    first = await registry.outbox_rows()
    await demo.load(registry.client, registry.secret)
    assert await registry.outbox_rows() == first

    page = (await registry.client.get("/offerings", params={"limit": 200})).json()
    assert page["total"] >= 9
    languages = {lang for o in page["items"] for lang in o["languages"]}
    assert {"fi", "sv", "en", "ar"} <= languages
    regions = {o["region"] for o in page["items"]}
    assert regions == {"pirkanmaa", "pohjois-pohjanmaa", "etela-pohjanmaa"}
    # the suspended provider's offering is not public
    assert all(o["provider_name"] != "Nopea Raha Oy" for o in page["items"])
    queue = (await registry.client.get("/providers", params={"state": "applied"},
                                       headers=registry.admin())).json()["items"]
    assert [p["legal_name"] for p in queue] == ["Uusi Alku Osuuskunta"]
