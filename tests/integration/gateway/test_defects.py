"""Hostile-client findings that must stay fixed, against one stack of real services: trailing
slashes never redirect past the gateway, API keys cannot manage keys, request ids are
accepted only when safe, every gateway route has a body limit, the docs page needs no CDN,
OPTIONS and 405 name what is allowed, bodies that are not JSON are 400/415, human text and
numbers are strict, timestamps carry an offset, a municipality is found by its Swedish name."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.proxy import public_location
from gateway.routing import ROUTES
from tests.integration.gateway.conftest import Gateway, Stack, gateway_for
from tests.integration.gateway.test_gateway import approved_provider
from tests.integration.registry.conftest import offering_body
from tests.support import application


def internal_addresses(stack: Stack) -> list[str]:
    return [p.url.split("//", 1)[1] for p in (stack.registry, stack.voucher, stack.matching)]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_trailing_slash_is_a_404_problem_on_every_routed_prefix(
        stack: Stack, gateway: Gateway, method: str) -> None:
    admin = await gateway.admin()
    internal = internal_addresses(stack)
    for resource in ROUTES:
        for path in (f"/api/v1/{resource}", f"/api/v1/{resource}/",
                     f"/api/v1/{resource}/x/", f"/api/v1/{resource}/x/history/"):
            r = await gateway.client.request(method, path, headers=admin,
                                             json={} if method == "POST" else None)
            assert not 300 <= r.status_code < 400, (path, r.status_code, r.headers)
            seen = " ".join(f"{k}: {v}" for k, v in r.headers.items()) + r.text
            assert not any(a in seen for a in internal), (path, seen)
            if path.endswith("/"):
                assert r.status_code == 404, (path, r.status_code)
                assert r.headers["content-type"] == "application/problem+json"
    for path in ("/docs/", "/openapi.json/", "/auth/dev-login/"):
        r = await gateway.client.get(path)
        assert r.status_code == 404 and "location" not in r.headers, path


def test_a_location_from_a_service_never_names_its_address() -> None:
    urls = {"registry": "http://127.0.0.1:8101", "voucher": "http://127.0.0.1:8102"}
    assert public_location("http://127.0.0.1:8101/providers/p1", "registry", urls) == \
        "/api/v1/providers/p1"
    assert public_location("/offerings?limit=2", "registry", urls) == "/api/v1/offerings?limit=2"
    assert public_location("http://127.0.0.1:8101/internal/x", "registry", urls) is None
    assert public_location("/budgets/b1", "registry", urls) is None  # not the registry's
    assert public_location("http://127.0.0.1:8102/vouchers/v", "registry", urls) is None
    assert public_location("http://evil.example/providers", "registry", urls) is None
    assert public_location("providers/p1", "registry", urls) is None


@pytest.mark.usefixtures("key_verification")
async def test_an_api_key_can_neither_create_nor_revoke_keys(gateway: Gateway) -> None:
    pid = await approved_provider(gateway, 701)
    staff = await gateway.staff(pid)
    keys = f"/api/v1/providers/{pid}/api-keys"
    first = (await gateway.client.post(keys, json={"name": "erp"}, headers=staff)).json()
    key = {"X-API-Key": first["key"]}
    r = await gateway.client.post(keys, json={"name": "mine now"}, headers=key)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    second = (await gateway.client.post(keys, json={"name": "pos"}, headers=staff)).json()
    r = await gateway.client.post(f"{keys}/{second['id']}/revocation",
                                  headers={"Authorization": f"Bearer {first['key']}"})
    assert r.status_code == 403, r.text
    listed = (await gateway.client.get(keys, headers=key)).json()["items"]
    assert {k["name"] for k in listed} == {"erp", "pos"}  # nothing made, nothing revoked
    assert all(k["revoked_at"] is None for k in listed)
    # the staff's session still manages them
    r = await gateway.client.post(f"{keys}/{second['id']}/revocation", headers=staff)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None


async def test_a_request_id_shaped_like_a_henkilotunnus_is_replaced_everywhere(
        stack: Stack, gateway: Gateway) -> None:
    for rid in ("010280-952L", "trace-010280-952L", "short"):
        r = await gateway.client.get("/api/v1/offerings/no-such-offering",
                                     headers={"X-Request-ID": rid})
        assert r.status_code == 404
        assert r.headers["x-request-id"] != rid
        assert r.json()["request_id"] == r.headers["x-request-id"]  # the registry's own
    r = await gateway.client.get("/api/v1/offerings", headers={"X-Request-ID": "trace.0001-a"})
    assert r.headers["x-request-id"] == "trace.0001-a"
    for process in (stack.registry, stack.voucher, stack.matching):
        assert "952L" not in process.log.read_text()


async def test_every_gateway_route_has_the_body_limit(stack: Stack) -> None:
    async with gateway_for(stack.gateway_settings(max_body_bytes=2_000)) as gw:
        big = {"user": "citizen-maija", "padding": "x" * 5_000}

        async def chunks() -> Any:  # no Content-Length: counted while read
            for _ in range(5):
                yield b"x" * 1_000

        for path in ("/auth/dev-token", "/auth/logout", "/auth/dev-login", "/nowhere"):
            r = await gw.client.post(path, json=big)
            assert r.status_code == 413, (path, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"
            r = await gw.client.post(path, content=chunks(),
                                     headers={"Content-Type": "application/json"})
            assert r.status_code == 413, path
        ok = await gw.client.post("/auth/dev-token", json={"user": "citizen-maija"})
        assert ok.status_code == 200  # a body under the limit reaches the route whole


async def test_the_docs_page_needs_nothing_from_another_origin(gateway: Gateway) -> None:
    r = await gateway.client.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "http" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "//" not in r.text  # no absolute URL: no CDN
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert len(assets) >= 5
    for url in assets:
        a = await gateway.client.get(url)
        assert a.status_code == 200 and len(a.content) > 100, url
        assert a.headers["content-type"].split(";")[0] in (
            "text/javascript", "text/css", "image/png"), url
    assert (await gateway.client.get("/docs/assets/LICENSE")).status_code == 200
    for other in ("/docs/assets/../../settings.py", "/docs/assets/swagger-editor.js",
                  "/docs/assets/%2e%2e%2fcore.py"):
        assert (await gateway.client.get(other)).status_code == 404, other


async def test_text_that_should_never_be_stored_and_numbers_as_strings_are_refused(
        gateway: Gateway) -> None:
    for bad in ("Nul\x00Oy", "Evil\u202eyO", "Zero\u200bwidth Oy", "Joiner\u2060Oy"):
        body = application(702) | {"legal_name": bad}
        r = await gateway.client.post("/api/v1/providers", json=body)
        assert r.status_code == 422, (bad, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["legal_name"]
    body = application(703) | {"legal_name": "Ka\u0308rkka\u0308inen Oy"}
    r = await gateway.client.post("/api/v1/providers", json=body)
    assert r.status_code == 201 and r.json()["legal_name"] == "Kärkkäinen Oy"

    pid = await approved_provider(gateway, 704)
    staff = await gateway.staff(pid)
    for field, value in (("unit_price_cents", "100"), ("capacity", 5.0), ("remote", "true"),
                         ("duration_days", True)):
        r = await gateway.client.post("/api/v1/offerings",
                                      json=offering_body() | {field: value}, headers=staff)
        assert r.status_code == 422, (field, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field]
    r = await gateway.client.post("/api/v1/offerings", json=offering_body(), headers=staff)
    assert r.status_code == 201, r.text


async def test_options_and_405_name_exactly_what_a_path_answers(gateway: Gateway) -> None:
    async def allow(method: str, path: str, status: int) -> set[str]:
        r = await gateway.client.request(method, path)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        if status == 405:
            assert r.headers["content-type"] == "application/problem+json"
        return {m.strip() for m in r.headers["allow"].split(",")}

    offerings = await allow("OPTIONS", "/api/v1/offerings", 204)
    assert offerings == {"GET", "POST", "OPTIONS"}
    assert await allow("DELETE", "/api/v1/offerings", 405) == offerings
    assert await allow("TRACE", "/api/v1/offerings", 405) == offerings
    one = await allow("OPTIONS", "/api/v1/offerings/some-id", 204)
    assert {"GET", "PUT"} <= one and "POST" not in one
    assert await allow("PATCH", "/api/v1/offerings/some-id", 405) == one
    assert await allow("OPTIONS", "/auth/dev-token", 204) == {"POST", "OPTIONS"}
    assert await allow("GET", "/auth/dev-token", 405) == {"POST", "OPTIONS"}
    assert (await gateway.client.options("/api/v1/no-such-thing")).status_code == 404


async def test_bodies_that_are_not_json_are_400_or_415_problems(gateway: Gateway) -> None:
    r = await gateway.client.post("/api/v1/providers", content=b'{"legal_name": ',
                                  headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = await gateway.client.post("/api/v1/providers", content=b"legal_name=x",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json"


async def test_every_timestamp_the_api_returns_has_an_offset(gateway: Gateway) -> None:
    from datetime import datetime

    await approved_provider(gateway, 705)
    r = await gateway.client.get("/api/v1/audit-log", headers=await gateway.admin())
    assert r.status_code == 200 and r.json()["items"]
    for entry in r.json()["items"]:
        assert datetime.fromisoformat(entry["at"]).utcoffset() is not None, entry["at"]


async def test_a_municipality_is_found_by_its_swedish_name_too(gateway: Gateway) -> None:
    pid = await approved_provider(gateway, 706)
    body = offering_body(description={"fi": "Valmennusta Tampereella, ryhmässä ja yksin."})
    r = await gateway.client.post("/api/v1/offerings", json=body,
                                  headers=await gateway.staff(pid))
    assert r.status_code == 201, r.text

    async def found(q: str) -> set[str]:
        r = await gateway.client.get("/api/v1/offerings", params={"q": q, "limit": 200})
        return {o["id"] for o in r.json()["items"]}

    tampere = await found("Tampere")
    assert r.json()["id"] in tampere
    assert await found("Tammerfors") == tampere
    assert await found("tammerfors valmennusta") == await found("tampere valmennusta")
