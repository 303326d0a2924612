"""The gateway: identity, principal forwarding, function-level authorization, mass assignment,
upstream failures, security headers, merged OpenAPI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from contracts.principal import Principal, Role, encode
from kit.natsserver import free_port
from kit.settings import DEV_PRINCIPAL_SECRET
from tests.integration.gateway.conftest import Gateway, Stack, gateway_for
from tests.integration.registry.conftest import offering_body
from tests.support import application

YEAR = (date.today() + timedelta(days=365)).isoformat()


async def approved_provider(gw: Gateway, i: int, region: str = "pirkanmaa") -> str:
    r = await gw.client.post("/api/v1/providers", json=application(i, (region,)))
    assert r.status_code == 201, r.text
    pid = str(r.json()["id"])
    r = await gw.client.post(f"/api/v1/providers/{pid}/accreditations/{region}/decisions",
                             json={"decision": "approve", "reason": "criteria met",
                                   "valid_until": YEAR},
                             headers=await gw.admin(region))
    assert r.status_code == 200, r.text
    return pid


async def test_public_routes_and_request_id(gateway: Gateway) -> None:
    r = await gateway.client.get("/api/v1/offerings", headers={"X-Request-ID": "trace-0001"})
    assert r.status_code == 200 and "items" in r.json()
    assert r.headers["x-request-id"] == "trace-0001"
    r = await gateway.client.get("/api/v1/nonsense")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    # internal and operational endpoints of the services are not reachable from outside
    for path in ("/api/v1/internal/credentials/verify", "/api/v1/ops/dead-letters",
                 "/api/v1/dead-letters", "/api/v1/dead-letters/gateway",
                 "/api/v1/dead-letters/registry/", "/api/v1/dead-letters/registry/x"):
        assert (await gateway.client.get(path)).status_code == 404, path
    # the region admins' dead letters: each service's own, through the gateway, no payload
    admin = await gateway.admin()
    for service in ("registry", "voucher", "matching"):
        r = await gateway.client.get(f"/api/v1/dead-letters/{service}", headers=admin)
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"items", "next_cursor"}
        assert all("payload" not in item for item in r.json()["items"])
        r = await gateway.client.get(f"/api/v1/dead-letters/{service}",
                                     params={"cursor": "forged.AAAA"}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


async def test_forged_principal_header_is_stripped(gateway: Gateway) -> None:
    forged = encode(Principal(sub="x", role=Role.region_admin, region="pirkanmaa"),
                    DEV_PRINCIPAL_SECRET)
    r = await gateway.client.get("/api/v1/audit-log", headers={"X-Seteli-Principal": forged})
    assert r.status_code == 401  # the registry saw no principal: the forged one was dropped
    r = await gateway.client.post("/api/v1/service-types", headers={"X-Seteli-Principal": forged},
                                  json={"code": "forged-type", "name": {"fi": "x"},
                                        "payment_scheme": [{"code": "start",
                                                            "share_bp": 10000}]})
    assert r.status_code == 401


async def test_bad_credentials_are_401_not_anonymous(gateway: Gateway) -> None:
    for headers in ({"Authorization": "Bearer not-a-token"},
                    {"Authorization": "Bearer stl_00000000_nope"},
                    {"X-API-Key": "stl_deadbeef_nope"}):
        r = await gateway.client.get("/api/v1/offerings", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.usefixtures("key_verification")
async def test_provider_api_key_end_to_end(gateway: Gateway) -> None:
    pid = await approved_provider(gateway, 101)
    staff = await gateway.staff(pid)
    r = await gateway.client.post(f"/api/v1/providers/{pid}/api-keys", json={"name": "erp"},
                                  headers=staff)
    assert r.status_code == 201, r.text
    key, key_id = r.json()["key"], r.json()["id"]
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        r = await gateway.client.post("/api/v1/offerings", json=offering_body(),
                                      headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["provider_id"] == pid
    r = await gateway.client.post(f"/api/v1/providers/{pid}/api-keys/{key_id}/revocation",
                                  headers=staff)
    assert r.status_code == 200
    r = await gateway.client.post("/api/v1/offerings", json=offering_body(),
                                  headers={"X-API-Key": key})
    assert r.status_code == 401


@pytest.mark.usefixtures("key_verification")
async def test_provider_tokens_on_admin_endpoints_are_403(gateway: Gateway) -> None:
    pid = await approved_provider(gateway, 102)
    other = await approved_provider(gateway, 103)
    staff = await gateway.staff(pid)
    citizen = await gateway.citizen()
    calls = [
        ("POST", f"/api/v1/providers/{other}/accreditations/pirkanmaa/decisions",
         {"decision": "revoke", "reason": "I do not like them"}),
        ("POST", "/api/v1/service-types",
         {"code": "sneaky", "name": {"fi": "x"},
          "payment_scheme": [{"code": "start", "share_bp": 10000}]}),
        ("POST", f"/api/v1/providers/{pid}/accreditations/pirkanmaa/decisions",
         {"decision": "renew", "reason": "self-service", "valid_until": YEAR}),
    ]
    calls += [("GET", "/api/v1/audit-log", None),
              ("POST", "/api/v1/accreditation-expiry-runs", None),
              ("GET", "/api/v1/providers?state=applied", None),
              ("GET", "/api/v1/assignments", None),
              *(("GET", f"/api/v1/dead-letters/{service}", None)
                for service in ("registry", "voucher", "matching"))]
    key = (await gateway.client.post(f"/api/v1/providers/{pid}/api-keys", json={"name": "k"},
                                     headers=staff)).json()["key"]
    for headers in (staff, citizen, {"X-API-Key": key}):
        for method, path, body in calls:
            r = await gateway.client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (method, path, r.text)
    for method, path, body in calls:  # anonymous: no identity at all
        r = await gateway.client.request(method, path, json=body)
        assert r.status_code in (401, 403), (method, path, r.text)


async def test_mass_assignment_is_refused(gateway: Gateway) -> None:
    pid = await approved_provider(gateway, 104)
    staff = await gateway.staff(pid)
    for extra in ({"status": "withdrawn"}, {"provider_id": "someone-else"},
                  {"paid_amount_cents": 1}, {"visible": True}, {"version": 99}):
        r = await gateway.client.post("/api/v1/offerings", json=offering_body() | extra,
                                      headers=staff)
        assert r.status_code == 422, extra
        assert r.json()["errors"][0]["field"] == next(iter(extra))
    for extra in ({"status": "approved"}, {"accreditations": [{"region": "pirkanmaa",
                                                               "state": "approved"}]}):
        r = await gateway.client.post("/api/v1/providers", json=application(105) | extra)
        assert r.status_code == 422, extra
    r = await gateway.client.post(f"/api/v1/providers/{pid}/accreditations/pirkanmaa/decisions",
                                  json={"decision": "suspend", "reason": "check",
                                        "region": "pohjois-pohjanmaa"},
                                  headers=await gateway.admin())
    assert r.status_code == 422


async def test_dev_token_validation(gateway: Gateway) -> None:
    r = await gateway.client.post("/auth/dev-token", json={"role": "citizen",
                                                           "henkilotunnus": "010280-952X"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "henkilotunnus"
    r = await gateway.client.post("/auth/dev-token", json={"user": "citizen-maija"})
    body = r.json()
    assert body["principal"]["role"] == "citizen"
    assert "010280" not in r.text  # the henkilötunnus never comes back, only its keyed hash
    assert len(body["principal"]["person_key"]) == 64
    users = (await gateway.client.get("/auth/dev-users")).json()
    assert {u["role"] for u in users} == {"citizen", "region_admin", "provider"}
    assert {u["region"] for u in users if u["role"] == "region_admin"} == {
        "pirkanmaa", "pohjois-pohjanmaa", "etela-pohjanmaa"}
    staff = next(u for u in users if u["role"] == "provider")
    r = await gateway.client.post("/auth/dev-token", json={"user": staff["id"]})
    assert r.json()["principal"]["provider_id"] == staff["provider_id"]
    r = await gateway.client.post("/auth/dev-token", json={"role": "service"})
    assert r.status_code == 422  # the service role is the gateway's own, never handed out


async def test_dev_mode_off_hides_dev_login(stack: Stack) -> None:
    async with gateway_for(stack.gateway_settings(dev_mode=False)) as gw:
        assert (await gw.client.post("/auth/dev-token", json={"user": "citizen-maija"})
                ).status_code == 404
        assert (await gw.client.get("/auth/dev-login")).status_code == 404
        doc = (await gw.client.get("/openapi.json")).json()
        assert not any(p.startswith("/auth/dev") for p in doc["paths"])
        assert "/auth/dev-login" not in (await gw.client.get("/")).text


async def test_browser_login_with_cookie_and_csrf(gateway: Gateway) -> None:
    page = await gateway.client.get("/auth/dev-login")
    assert page.status_code == 200 and "<form" in page.text
    csrf = page.cookies["seteli_csrf"]
    r = await gateway.client.post("/auth/dev-login", data={"user": "admin-pirkanmaa",
                                                           "csrf": "wrong"})
    assert r.status_code == 403
    r = await gateway.client.post("/auth/dev-login", data={"user": "admin-pirkanmaa",
                                                           "csrf": csrf})
    assert r.status_code == 303
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("seteli_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    new_csrf = r.cookies["seteli_csrf"]  # a new session gets a new CSRF token
    assert new_csrf != csrf
    # a cookie-authenticated write needs the CSRF header too, signed for this session
    body = {"code": "cookie-type", "name": {"fi": "Evästetyyppi"},
            "payment_scheme": [{"code": "start", "share_bp": 10000}]}
    r = await gateway.client.post("/api/v1/service-types", json=body)
    assert r.status_code == 403
    gateway.client.cookies.set("seteli_csrf", csrf)
    r = await gateway.client.post("/api/v1/service-types", json=body,
                                  headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403  # the token from before the login does not pass any more
    gateway.client.cookies.set("seteli_csrf", new_csrf)
    r = await gateway.client.post("/api/v1/service-types", json=body,
                                  headers={"X-CSRF-Token": new_csrf})
    assert r.status_code == 201, r.text
    # reads need no CSRF token
    assert (await gateway.client.get("/api/v1/audit-log")).status_code == 200
    home = await gateway.client.get("/?lang=sv")
    assert '<html lang="sv"' in home.text and "områdets huvudanvändare (pirkanmaa)" in home.text
    # logging out ends the session: the same token no longer works, not even as a bearer
    token = gateway.client.cookies["seteli_session"]
    r = await gateway.client.post("/auth/logout", data={"csrf": "wrong"})
    assert r.status_code == 403
    r = await gateway.client.post("/auth/logout", data={"csrf": new_csrf})
    assert r.status_code == 303
    gateway.client.cookies.clear()
    r = await gateway.client.get("/api/v1/audit-log", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_security_headers(gateway: Gateway, stack: Stack) -> None:
    r = await gateway.client.get("/api/v1/offerings")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "strict-transport-security" not in r.headers
    async with gateway_for(stack.gateway_settings(public_url="https://seteli.example.fi",
                                                  dev_mode=False)) as gw:
        r = await gw.client.get("/api/v1/offerings")
        assert r.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_allow_list(stack: Stack) -> None:
    async with gateway_for(stack.gateway_settings(
            cors_origins=["https://provider.example.fi"])) as gw:
        ok = await gw.client.options("/api/v1/offerings", headers={
            "Origin": "https://provider.example.fi", "Access-Control-Request-Method": "POST"})
        bad = await gw.client.options("/api/v1/offerings", headers={
            "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert ok.headers["access-control-allow-origin"] == "https://provider.example.fi"
    assert "access-control-allow-origin" not in bad.headers


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never answers."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await asyncio.sleep(30)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()


@pytest.mark.parametrize("client", ["h1", "aiohttp", "httpx"])
async def test_upstream_down_or_silent_is_a_problem_not_a_hang(stack: Stack,
                                                               client: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with silent_server() as port:
        settings = stack.gateway_settings(voucher_url=dead,
                                          matching_url=f"http://127.0.0.1:{port}",
                                          upstream_timeout_seconds=0.5, upstream_client=client)
        async with gateway_for(settings) as gw:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for method in ("GET", "POST"):
                r = await gw.client.request(method, "/api/v1/vouchers", json={})
                assert r.status_code == 502, (method, r.text)
                assert r.headers["content-type"] == "application/problem+json"
                r = await gw.client.request(method, "/api/v1/recommendations", json={})
                assert r.status_code == 504, (method, r.text)
            assert loop.time() - t0 < 5
            assert (await gw.client.get("/readyz")).status_code == 503
            # and the working service behind the same client still answers, body and query
            seed = 401 + ["h1", "aiohttp", "httpx"].index(client)
            r = await gw.client.post("/api/v1/providers", json=application(seed))
            assert r.status_code == 201, r.text
            r = await gw.client.get("/api/v1/providers", params={"limit": 1})
            assert r.status_code == 200 and len(r.json()["items"]) <= 1


async def test_merged_openapi_and_asyncapi(gateway: Gateway) -> None:
    doc = (await gateway.client.get("/openapi.json")).json()
    paths = set(doc["paths"])
    assert {"/api/v1/providers", "/api/v1/offerings", "/api/v1/offerings/{offering_id}",
            "/api/v1/providers/{provider_id}/accreditations/{region}/decisions"} <= paths
    assert not any("/internal/" in p or "/ops/" in p or p.endswith("readyz") for p in paths)
    assert "ProblemDetail" in doc["components"]["schemas"]
    assert "asyncapi.json" in doc["info"]["description"]
    events = (await gateway.client.get("/asyncapi.json")).json()
    addresses = {c["address"] for c in events["channels"].values()}
    assert {"seteli.registry.v1.provider.applied", "seteli.registry.v1.offering.published",
            "seteli.registry.v1.provider.accredited"} <= addresses
    assert (await gateway.client.get("/docs")).status_code == 200


@pytest.mark.parametrize(("env", "host", "dev"), [("production", "127.0.0.1", True),
                                                  ("development", "0.0.0.0", True),
                                                  ("development", "10.1.2.3", True)])
def test_dev_mode_cannot_be_switched_on_unsafely(env: str, host: str, dev: bool) -> None:
    from pydantic import ValidationError

    from gateway.settings import Settings

    with pytest.raises(ValidationError, match="dev_mode"):
        Settings(env=env, host=host, dev_mode=dev, principal_secret="p" * 40,
                 session_secret="s" * 40, person_key_secret="k" * 40)


def test_production_defaults_dev_mode_off() -> None:
    from gateway.settings import Settings

    s = Settings(env="production", principal_secret="p" * 40, session_secret="s" * 40,
                 person_key_secret="k" * 40)
    assert s.dev_mode is False
    assert Settings(env="development").dev_mode is True
