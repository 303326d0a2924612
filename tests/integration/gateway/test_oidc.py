"""OpenID Connect login against a real (small) identity provider process: a citizen comes back
with a session whose principal carries only the keyed hash of the henkilötunnus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from gateway.oidc import principal_from_claims
from gateway.settings import Settings
from tests.integration.gateway.conftest import Stack, gateway_for
from tests.processes import ServiceProcess


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    claims = {"nationalIdentificationNumber": "010280-952L", "name": "Maija Testihenkilö"}
    proc = ServiceProcess("tests.fake_oidc:app", {"FAKE_OIDC_CLAIMS": json.dumps(claims)},
                          tmp_path_factory.mktemp("idp") / "idp.log")
    proc.start()
    yield proc
    proc.stop()


async def test_citizen_logs_in_with_oidc(stack: Stack, idp: ServiceProcess) -> None:
    settings = stack.gateway_settings(oidc_issuer=idp.url, oidc_client_id="seteli",
                                      oidc_client_secret="secret", dev_mode=False)
    async with gateway_for(settings) as gw:
        start = await gw.client.get("/auth/login")
        assert start.status_code == 302
        authorize = start.headers["location"]
        assert authorize.startswith(idp.url + "/authorize")
        assert "ui_locales=fi" in authorize and "code_challenge_method=S256" in authorize
        async with httpx.AsyncClient() as browser:
            back = await browser.get(authorize)  # the person authenticates at the provider
        assert back.status_code == 302
        callback = urlparse(back.headers["location"])
        assert callback.path == "/auth/callback"
        done = await gw.client.get(f"{callback.path}?{callback.query}")
        assert done.status_code == 303, done.text
        assert "seteli_session=" in done.headers["set-cookie"]
        home = await gw.client.get("/?lang=en")
        assert "Signed in" in home.text and "Sign out" in home.text
        assert "010280" not in home.text

        # a replayed callback (used code, stale state) is refused
        again = await gw.client.get(f"{callback.path}?{callback.query}")
        assert again.status_code in (401, 403)


@pytest.fixture(scope="module")
def admin_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    claims = {"seteli_admin_region": "pohjois-pohjanmaa", "name": "Alue Admin"}
    proc = ServiceProcess("tests.fake_oidc:app", {"FAKE_OIDC_CLAIMS": json.dumps(claims)},
                          tmp_path_factory.mktemp("idp-admin") / "idp.log")
    proc.start()
    yield proc
    proc.stop()


async def test_region_admin_logs_in_with_oidc(stack: Stack, admin_idp: ServiceProcess) -> None:
    settings = stack.gateway_settings(oidc_issuer=admin_idp.url, oidc_client_id="seteli",
                                      oidc_client_secret="secret", dev_mode=False)
    async with gateway_for(settings) as gw:
        start = await gw.client.get("/auth/login?lang=sv")
        assert "ui_locales=sv" in start.headers["location"]
        async with httpx.AsyncClient() as browser:
            back = await browser.get(start.headers["location"])
        callback = urlparse(back.headers["location"])
        done = await gw.client.get(f"{callback.path}?{callback.query}")
        assert done.status_code == 303, done.text
        # the session cookie works for the admin's own region's endpoints, with CSRF for writes
        r = await gw.client.get("/api/v1/audit-log")
        assert r.status_code == 200, r.text
        r = await gw.client.post("/api/v1/accreditation-expiry-runs")
        assert r.status_code == 403  # no CSRF header
        csrf = gw.client.cookies["seteli_csrf"]
        r = await gw.client.post("/api/v1/accreditation-expiry-runs",
                                 headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        home = await gw.client.get("/")
        assert "pohjois-pohjanmaa" in home.text


def test_claims_to_principal() -> None:
    s = Settings(dev_mode=False)
    citizen = principal_from_claims({"nationalIdentificationNumber": "081181-9984"}, s)
    assert citizen.role == "citizen" and citizen.person_key and "081181" not in citizen.sub
    admin = principal_from_claims({"seteli_admin_region": "pirkanmaa", "sub": "a1"}, s)
    assert admin.role == "region_admin" and admin.region == "pirkanmaa"
    from kit.errors import Forbidden

    with pytest.raises(Forbidden):
        principal_from_claims({"sub": "nobody"}, s)
    with pytest.raises(Forbidden):
        principal_from_claims({"nationalIdentificationNumber": "010280-952X"}, s)
