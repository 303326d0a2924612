"""The pages as a hostile or careless client meets them: every page in every language, bad
filters and forged cursors, someone else's ids, missing CSRF tokens, double submits, stale
forms, open redirects. A refusal is a 4xx page, never a 500, and writes nothing."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.web.conftest import Browser
from tests.support import valid_business_id
from tests.webstack import WebStack

pytestmark = pytest.mark.e2e


def lang_of(html: str) -> str:
    m = re.search(r'<html lang="([a-z]+)"', html)
    assert m, html[:200]
    return m.group(1)


def public(stack: WebStack, path: str, **params: Any) -> Any:
    r = httpx.get(stack.url + "/api/v1" + path, params=params, timeout=15)
    assert r.status_code == 200, r.text
    return r.json()


def offering_of(stack: WebStack, provider_name: str) -> dict[str, Any]:
    provider = stack.provider_named(provider_name)
    return dict(public(stack, "/offerings", provider_id=provider["id"])["items"][0])


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_every_public_page_in_every_language(stack: WebStack, lang: str) -> None:
    offering = offering_of(stack, "Polku Valmennus Oy")
    paths = ["/", "/offerings", "/offerings?region=pirkanmaa&remote=1",
             f"/offerings/{offering['id']}", f"/providers/{offering['provider_id']}",
             "/accessibility", "/sign-in", "/auth/dev-login", "/apply"]
    with httpx.Client(base_url=stack.url, timeout=15) as http:
        for path in paths:
            r = http.get(path, params={"lang": lang})
            assert r.status_code == 200, (path, r.text[:500])
            assert lang_of(r.text) == lang
            assert r.headers["content-language"] == lang
            assert "default-src 'self'" in r.headers["content-security-policy"]
            assert r.text.count("<h1") == 1 and 'href="#main"' in r.text


def test_language_choice_is_remembered(stack: WebStack) -> None:
    with httpx.Client(base_url=stack.url, timeout=15) as http:
        assert lang_of(http.get("/", headers={"accept-language": "sv-FI"}).text) == "sv"
        assert lang_of(http.get("/").text) == "fi"  # Finnish by default
        r = http.get("/accessibility", params={"lang": "en"})
        assert "seteli_lang=en" in r.headers["set-cookie"]
        assert 'href="/offerings?lang=en"' in r.text  # the links carry it too
        assert lang_of(http.get("/", headers={"accept-language": "sv"}).text) == "en"


@pytest.mark.parametrize(("query", "field"), [
    ({"cursor": "bm90LWEtY3Vyc29y"}, None),  # forged cursor: a fresh first page is offered
    ({"cursor": "%%%"}, None),
    ({"municipality": "abc"}, "municipality"),
    ({"language": "zz"}, "language"),
    ({"q": "x" * 300}, "q"),
])
def test_bad_search_input_is_a_page_naming_the_field(
        stack: WebStack, query: dict[str, str], field: str | None) -> None:
    r = httpx.get(stack.url + "/offerings", params=query, timeout=15)
    assert r.status_code == 422, r.text[:300]
    assert 'id="error-summary"' in r.text
    if field:
        assert f'href="#field-{field}"' in r.text
        assert f'id="field-{field}-error"' in r.text
        assert re.search(rf'id="field-{field}"[^>]*aria-describedby="[^"]*field-{field}-error',
                         r.text)


@pytest.mark.parametrize("query", [
    {"q": "\x00\x1b[31m"}, {"q": "' OR 1=1 --"}, {"remote": "maybe"},
    {"limit": "999999999999"}, {"limit": "-1"}, {"region": "ei-ole"}, {"lang": "\u202e"},
])
def test_odd_search_input_never_breaks_the_page(stack: WebStack,
                                                query: dict[str, str]) -> None:
    r = httpx.get(stack.url + "/offerings", params=query, timeout=15)
    assert r.status_code in (200, 422), r.text[:300]
    assert r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", [
    "/offerings/00000000-0000-0000-0000-000000000000", "/offerings/%2e%2e",
    "/providers/..%2F..%2Finternal%2Fcredentials", "/providers/not-a-provider", "/no-such-page",
])
def test_unknown_ids_are_not_found_pages(stack: WebStack, path: str) -> None:
    r = httpx.get(stack.url + path, timeout=15, headers={"accept": "text/html"})
    assert r.status_code == 404, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert lang_of(r.text) == "fi"


def test_staff_and_admin_pages_need_the_right_sign_in(stack: WebStack,
                                                     browser: Browser) -> None:
    for path in ("/staff/offerings", "/staff/api-keys", "/admin/providers",
                 "/admin/audit-log"):
        r = browser.http.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/sign-in?next=" + path.replace("/", "%2F"))
    browser.sign_in(user="citizen-maija")
    for path in ("/staff/offerings", "/admin/audit-log"):
        assert browser.http.get(path).status_code == 403


def test_sign_in_goes_back_only_within_the_site(stack: WebStack, browser: Browser) -> None:
    browser.http.get("/auth/dev-login")
    token = browser.http.cookies.get("seteli_csrf")
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example", "/"),
                             ("/\\evil.example", "/"), ("/staff/offerings", "/staff/offerings")):
        r = browser.http.post("/auth/dev-login", data={"csrf": token, "user": "admin-pirkanmaa",
                                                       "next": target})
        assert r.status_code == 303 and r.headers["location"] == expected, target
        token = browser.http.cookies.get("seteli_csrf")


def new_offering_form(browser: Browser, title: str) -> dict[str, Any]:
    page = browser.http.get("/staff/offerings/new")
    assert page.status_code == 200, page.text[:300]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    return {"csrf": browser.http.cookies.get("seteli_csrf"), "idempotency_key": key.group(1),
            "region": "pirkanmaa", "service_type": "career-guidance", "title.fi": title,
            "description.fi": "Kuvaus.", "municipalities": ["837"], "languages": ["fi"],
            "unit_price": "500", "capacity": "4",
            "next_start": (date.today() + timedelta(days=20)).isoformat(),
            "duration_days": "10"}


def test_forms_without_csrf_token_change_nothing(stack: WebStack, browser: Browser) -> None:
    provider = stack.provider_named("Polku Valmennus Oy")
    browser.sign_in(provider_id=provider["id"])
    title = f"Ilman tokenia {uuid.uuid4().hex[:6]}"
    form = new_offering_form(browser, title)
    for token in (None, "forged.0000", browser.csrf() + "x"):
        data = {k: v for k, v in form.items() if k != "csrf"}
        if token:
            data["csrf"] = token
        r = browser.http.post("/staff/offerings/new", data=data)
        assert r.status_code == 403, r.text[:300]
    assert public(stack, "/offerings", q=title)["total"] == 0


def test_a_double_submit_publishes_once(stack: WebStack, browser: Browser) -> None:
    provider = stack.provider_named("Polku Valmennus Oy")
    browser.sign_in(provider_id=provider["id"])
    title = f"Kahdesti lähetetty {uuid.uuid4().hex[:6]}"
    form = new_offering_form(browser, title)
    for _ in range(2):
        r = browser.http.post("/staff/offerings/new", data=form)
        assert r.status_code == 303, r.text[:500]
        assert "done=created" in r.headers["location"]
    assert public(stack, "/offerings", q=title)["total"] == 1


def test_someone_elses_offering_cannot_be_changed(stack: WebStack, browser: Browser) -> None:
    mine = stack.provider_named("Polku Valmennus Oy")
    theirs = offering_of(stack, "Birkaland Karriär Ab")
    browser.sign_in(provider_id=mine["id"])
    for path in ("edit", "capacity"):
        assert browser.http.get(f"/staff/offerings/{theirs['id']}/{path}").status_code == 404
    r = browser.http.post(f"/staff/offerings/{theirs['id']}/capacity",
                          data={"csrf": browser.csrf(), "capacity": "0",
                                "version": str(theirs["version"])})
    assert r.status_code == 404
    assert public(stack, f"/offerings/{theirs['id']}")["capacity"] == theirs["capacity"]


def test_a_stale_capacity_form_is_refused_and_shows_why(stack: WebStack,
                                                       browser: Browser) -> None:
    provider = stack.provider_named("Polku Valmennus Oy")
    browser.sign_in(provider_id=provider["id"])
    form = new_offering_form(browser, f"Vanha lomake {uuid.uuid4().hex[:6]}")
    assert browser.http.post("/staff/offerings/new", data=form).status_code == 303
    item = public(stack, "/offerings", q=form["title.fi"])["items"][0]
    path = f"/staff/offerings/{item['id']}/capacity"
    fresh = {"csrf": browser.csrf(), "version": str(item["version"])}
    assert browser.http.post(path, data=fresh | {"capacity": "7"}).status_code == 303
    r = browser.http.post(path, data=fresh | {"capacity": "1"})  # the version it saw is old
    assert r.status_code == 422 and 'id="error-summary"' in r.text
    assert public(stack, f"/offerings/{item['id']}")["capacity"] == 7
    for bad in ("", "-3", "10001", "lots"):
        r = browser.http.post(path, data=fresh | {"capacity": bad})
        assert r.status_code == 422 and 'aria-invalid="true"' in r.text, bad


def test_an_admin_decides_only_in_their_region(stack: WebStack, browser: Browser) -> None:
    applicant = stack.new_application("pirkanmaa")
    browser.sign_in(user="admin-pohjois-pohjanmaa")
    r = browser.http.get(f"/admin/providers/{applicant['id']}")
    assert r.status_code == 404  # not public, nothing about it in this admin's region
    r = browser.http.post(f"/admin/providers/{applicant['id']}", data={
        "csrf": browser.csrf(), "decision": "approve", "reason": "ei meidän",
        "valid_until": (date.today() + timedelta(days=30)).isoformat(), "version": "1",
        "idempotency_key": str(uuid.uuid4())})
    assert r.status_code in (403, 404), r.text[:300]
    token = httpx.post(stack.url + "/auth/dev-token", json={"user": "admin-pirkanmaa"},
                       timeout=15).json()["access_token"]
    seen = httpx.get(f"{stack.url}/api/v1/providers/{applicant['id']}", timeout=15,
                     headers={"Authorization": f"Bearer {token}"}).json()
    assert [a["state"] for a in seen["accreditations"]] == ["applied"]


def test_audit_log_csv_and_a_forged_cursor(stack: WebStack, browser: Browser) -> None:
    browser.sign_in(user="admin-pirkanmaa")
    r = browser.http.get("/admin/audit-log", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode()) and b"accreditation.approve" in r.content
    r = browser.http.get("/admin/audit-log", params={"cursor": "eyJiZWZvcmUiOiJ4In0"})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/audit-log")


def test_an_application_sent_twice_is_one_and_a_used_business_id_is_named(
        stack: WebStack, browser: Browser) -> None:
    page = browser.http.get("/apply")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    business_id = valid_business_id(int(uuid.uuid4().hex[:6], 16) + 2_000_000)
    form = {"csrf": browser.http.cookies.get("seteli_csrf"), "idempotency_key": key.group(1),
            "business_id": business_id, "legal_name": f"Kaksoset {uuid.uuid4().hex[:4]} Oy",
            "contact_name": "Matti Meikäläinen", "contact_email": "matti@kaksoset.example",
            "description.fi": "Uraohjausta.", "regions": ["pirkanmaa"]}
    for _ in range(2):
        r = browser.http.post("/apply", data=form)
        assert r.status_code == 303 and "done=sent" in r.headers["location"], r.text[:300]
    again = form | {"idempotency_key": str(uuid.uuid4()), "legal_name": "Toinen Oy"}
    r = browser.http.post("/apply", data=again)
    assert r.status_code == 422 and 'href="#field-business_id"' in r.text
    token = httpx.post(stack.url + "/auth/dev-token", json={"user": "admin-pirkanmaa"},
                       timeout=15).json()["access_token"]
    applied = httpx.get(stack.url + "/api/v1/providers", timeout=15,
                        params={"state": "applied", "limit": 200},
                        headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert [p["legal_name"] for p in applied if p["business_id"] == business_id] == \
        [form["legal_name"]]


def test_forged_cursors_on_signed_in_lists_are_refused_pages(stack: WebStack,
                                                             browser: Browser) -> None:
    provider = stack.provider_named("Polku Valmennus Oy")
    browser.sign_in(provider_id=provider["id"])
    assert browser.http.get("/staff/api-keys").status_code == 200
    r = browser.http.get("/staff/api-keys", params={"cursor": "eyJhZnRlciI6IngifQ"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
