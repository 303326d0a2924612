"""Broken object-level authorization, checked cell by cell.

The endpoints come from the gateway's merged OpenAPI document: every operation whose path takes
an object id, times every principal who must not reach that object (another provider, another
region's admin, another citizen, anonymous). Each cell asks twice — for the real object and for
an id that does not exist — and must be refused (403/404; 401 for anonymous, which has no
identity) with the same answer both times, so nothing reveals that the object exists.

An id-taking endpoint without an entry in ``OBJECTS`` fails the test: a new endpoint cannot slip
past unnoticed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.matching_world import OBJECTS as MATCHING_OBJECTS
from tests.integration.gateway.matching_world import matching_world
from tests.integration.gateway.voucher_world import OBJECTS as VOUCHER_OBJECTS
from tests.integration.gateway.voucher_world import _until, voucher_world
from tests.integration.registry.conftest import offering_body
from tests.support import application

YEAR = (date.today() + timedelta(days=365)).isoformat()

# Catalogue paths that are public by design: their {code} names no one's object.
PUBLIC_BY_DESIGN = {"/api/v1/regions/{code}"}


@dataclass
class World:
    """Objects owned by provider A (applied, not public) and by provider B (approved), made
    through the API as their owners would."""

    a: str
    a_key: str
    b: str
    b_withdrawn_offering: str


async def build_world(gw: Gateway, seed: int) -> World:
    r = await gw.client.post("/api/v1/providers", json=application(seed, ("pirkanmaa",)))
    a = r.json()["id"]
    r = await gw.client.post(f"/api/v1/providers/{a}/api-keys", json={"name": "erp"},
                             headers=await gw.staff(a))
    a_key = r.json()["id"]
    r = await gw.client.post("/api/v1/providers", json=application(seed + 1, ("pirkanmaa",)))
    b = r.json()["id"]
    await gw.client.post(f"/api/v1/providers/{b}/accreditations/pirkanmaa/decisions",
                         json={"decision": "approve", "reason": "criteria met",
                               "valid_until": YEAR}, headers=await gw.admin())
    r = await gw.client.post("/api/v1/offerings", json=offering_body(),
                             headers=await gw.staff(b))
    offering = r.json()["id"]
    await gw.client.post(f"/api/v1/offerings/{offering}/withdrawal", headers=await gw.staff(b))
    return World(a, a_key, b, offering)


Ids = dict[str, str]
# path template -> (ids of a private object, a request body that is valid apart from the ids)
OBJECTS: dict[str, Callable[[World], tuple[Ids, dict[str, Any] | None]]] = {
    "/api/v1/providers/{provider_id}": lambda w: ({"provider_id": w.a}, None),
    "/api/v1/providers/{provider_id}/history": lambda w: ({"provider_id": w.a}, None),
    "/api/v1/providers/{provider_id}/accreditations": lambda w: (
        {"provider_id": w.a}, {"region": "pohjois-pohjanmaa"}),
    "/api/v1/providers/{provider_id}/accreditations/{region}/decisions": lambda w: (
        {"provider_id": w.a, "region": "pirkanmaa"},
        {"decision": "approve", "reason": "criteria met", "valid_until": YEAR}),
    "/api/v1/providers/{provider_id}/api-keys": lambda w: (
        {"provider_id": w.a}, {"name": "stolen"}),
    "/api/v1/providers/{provider_id}/api-keys/{key_id}/revocation": lambda w: (
        {"provider_id": w.a, "key_id": w.a_key}, None),
    "/api/v1/offerings/{offering_id}": lambda w: (
        {"offering_id": w.b_withdrawn_offering}, offering_body()),
    "/api/v1/offerings/{offering_id}/withdrawal": lambda w: (
        {"offering_id": w.b_withdrawn_offering}, None),
}


def random_ids(ids: Ids) -> Ids:
    return {k: (v if k == "region" else str(uuid.uuid4())) for k, v in ids.items()}


def comparable(r: Any) -> tuple[int, Any]:
    try:
        body = r.json()
    except ValueError:
        return r.status_code, r.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("request_id", "instance")}
    return r.status_code, body


async def test_bola_matrix(gateway: Gateway) -> None:
    doc = (await gateway.client.get("/openapi.json")).json()
    operations = [(method.upper(), path) for path, item in doc["paths"].items()
                  if "{" in path and path not in PUBLIC_BY_DESIGN
                  for method in item if method in ("get", "post", "put", "delete", "patch")]
    missing = sorted({p for _, p in operations} - set(OBJECTS) - set(VOUCHER_OBJECTS)
                     - set(MATCHING_OBJECTS))
    assert not missing, f"id-taking endpoints without a BOLA fixture: {missing}"

    world = await build_world(gateway, 900)
    c = await build_world(gateway, 910)  # provider C: an outsider with its own objects
    vouchers = await voucher_world(gateway, world.b, 900)
    matching = await matching_world(gateway, vouchers)
    outsiders: dict[str, Callable[[], Awaitable[dict[str, str]]]] = {
        "another provider": lambda: gateway.staff(c.b),
        "another region's admin": lambda: gateway.admin("pohjois-pohjanmaa"),
        "another citizen": lambda: gateway.citizen("081181-9984"),
        "anonymous": lambda: _nothing(),
    }
    cells = 0
    failures = []
    for method, template in operations:
        ids, body = (OBJECTS[template](world) if template in OBJECTS
                     else MATCHING_OBJECTS[template](matching) if template in MATCHING_OBJECTS
                     else VOUCHER_OBJECTS[template](vouchers))
        for who, headers_for in outsiders.items():
            headers = await headers_for()
            answers = []
            for variant in (ids, random_ids(ids)):
                path = template.format(**variant)
                r = await gateway.client.request(method, path, json=body, headers=headers)
                answers.append(comparable(r))
            cells += 1
            allowed = {401, 403, 404} if who == "anonymous" else {403, 404}
            (real_status, real_body), random_answer = answers[0], answers[1]
            if real_status not in allowed:
                failures.append(f"{method} {template} as {who}: {real_status} {real_body}")
            elif answers[0] != random_answer:
                failures.append(f"{method} {template} as {who}: existing {answers[0]} "
                                f"!= random {random_answer}")
    assert cells == len(operations) * len(outsiders) and cells >= 40
    assert not failures, "\n".join(failures)


async def test_owner_can_reach_the_same_objects(gateway: Gateway) -> None:
    """The matrix's refusals come from ownership, not from broken fixtures."""
    world = await build_world(gateway, 920)
    staff_a = await gateway.staff(world.a)
    staff_b = await gateway.staff(world.b)
    assert (await gateway.client.get(f"/api/v1/providers/{world.a}",
                                     headers=staff_a)).status_code == 200
    assert (await gateway.client.get(f"/api/v1/providers/{world.a}/api-keys",
                                     headers=staff_a)).status_code == 200
    assert (await gateway.client.get(f"/api/v1/offerings/{world.b_withdrawn_offering}",
                                     headers=staff_b)).status_code == 200
    assert (await gateway.client.get(f"/api/v1/providers/{world.a}",
                                     headers=await gateway.admin())).status_code == 200


async def test_holder_and_admin_get_recommendations_through_the_gateway(
    gateway: Gateway
) -> None:
    """The matrix's refusals of recommendations come from ownership: the holder and the
    region's admin get them for the same voucher, once its events have reached matching."""
    world = await build_world(gateway, 930)
    vouchers = await voucher_world(gateway, world.b, 930)
    path = f"/api/v1/recommendations/{vouchers.voucher}"
    for headers in (await gateway.citizen("010280-952L"), await gateway.admin()):
        r = await _until(lambda h=headers: gateway.client.get(path, headers=h), 200,
                         "recommendations")
        body = r.json()
        assert body["voucher_id"] == vouchers.voucher and body["score_version"]
        for item in body["items"]:
            assert sum(f["contribution"] for f in item["factors"]) == item["score"]
    r = await gateway.client.get(path, headers=await gateway.citizen("081181-9984"))
    assert r.status_code == 404


async def _nothing() -> dict[str, str]:
    return {}
