"""The premises, their accessibility, new customers and per-part update times on the staff form
and the public pages; the comparison page ranking all of a voucher's offerings with their
outcome figures and ratings, page by page, and what it says when matching has none."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser import api
from tests.integration.web.conftest import Browser
from tests.integration.web.test_pages import new_offering_form, public
from tests.webstack import WebStack

pytestmark = pytest.mark.e2e
PREMISES = {"street_address": "Hämeenkatu 5", "postcode": "33100", "post_office": "Tampere",
            "accessibility": ["step_free_entrance", "induction_loop"],
            "accessibility_note": "Sisäänkäynti pihan puolelta.", "new_customers_shown": "1"}


def test_staff_form_takes_premises_and_refuses_them_at_their_fields(
        stack: WebStack, browser: Browser) -> None:
    provider = stack.provider_named("Polku Valmennus Oy")
    browser.sign_in(provider_id=provider["id"])
    title = f"Tilat {uuid.uuid4().hex[:6]}"
    form = new_offering_form(browser, title) | PREMISES
    # a postcode of four digits, and a street address without its post office
    bad = form | {"postcode": "3310", "post_office": ""}
    r = browser.http.post("/staff/offerings/new", data=bad)
    assert r.status_code == 422
    for field in ("postcode", "post_office"):
        assert f'href="#field-{field}"' in r.text and f'id="field-{field}"' in r.text
    # the API's own refusals land on the fields too: an accessibility code it does not know
    r = browser.http.post("/staff/offerings/new", data=form | {
        "accessibility": ["lift", "trampoline"], "idempotency_key": str(uuid.uuid4())})
    assert r.status_code == 422 and 'href="#field-accessibility"' in r.text
    r = browser.http.post("/staff/offerings/new", data=form | {
        "accessibility_note": "Ovi\u202e", "idempotency_key": str(uuid.uuid4())})
    assert r.status_code == 422 and 'href="#field-accessibility_note"' in r.text
    assert public(stack, "/offerings", q=title)["total"] == 0

    # taking no new customers now (the box left unticked), then published
    r = browser.http.post("/staff/offerings/new", data=form)
    assert r.status_code == 303, r.text[:500]
    item = public(stack, "/offerings", q=title)["items"][0]
    assert item["postcode"] == "33100" and item["accepting_new_customers"] is False
    assert item["accessibility"] == ["step_free_entrance", "induction_loop"]

    page = browser.http.get(f"/offerings/{item['id']}", params={"lang": "fi"}).text
    for words in ("Hämeenkatu 5, 33100 Tampere", "Esteetön sisäänkäynti", "Induktiosilmukka",
                  "Sisäänkäynti pihan puolelta.", "Ei, ei ota nyt uusia asiakkaita",
                  "Toimitila ja saavutettavuus:"):
        assert words in page, words
    page = browser.http.get(f"/offerings/{item['id']}", params={"lang": "sv"}).text
    assert "Steglös ingång" in page and "Nej, tar inte emot nya kunder nu" in page
    found = browser.http.get("/offerings", params={"q": title, "lang": "en"}).text
    assert "Hämeenkatu 5, 33100 Tampere" in found and "Induction loop" in found
    assert "Hämeenkatu 5" in browser.http.get(f"/providers/{provider['id']}").text

    # the edit form shows what is stored; changing the open places keeps the premises and
    # dates only the places
    edit = browser.http.get(f"/staff/offerings/{item['id']}/edit").text
    assert 'value="Hämeenkatu 5"' in edit
    assert re.search(r'value="induction_loop" checked', edit)
    r = browser.http.post(f"/staff/offerings/{item['id']}/capacity", data={
        "csrf": browser.csrf(), "version": str(item["version"]), "capacity": "9",
        "new_customers_shown": "1", "accepting_new_customers": "1"})
    assert r.status_code == 303, r.text[:500]
    after = public(stack, f"/offerings/{item['id']}")
    assert after["capacity"] == 9 and after["accepting_new_customers"] is True
    assert after["street_address"] == "Hämeenkatu 5" and after["accessibility"] == [
        "step_free_entrance", "induction_loop"]
    assert after["premises_updated_at"] == item["premises_updated_at"]
    assert after["places_updated_at"] > item["places_updated_at"]
    # a capacity form without the checkbox (an older page) leaves new customers as they were
    r = browser.http.post(f"/staff/offerings/{item['id']}/capacity", data={
        "csrf": browser.csrf(), "version": str(after["version"]), "capacity": "8"})
    assert r.status_code == 303
    assert public(stack, f"/offerings/{item['id']}")["accepting_new_customers"] is True


def test_compare_shows_figures_ratings_and_premises_of_the_whole_ranking(
        stack: WebStack) -> None:
    region_admin = api.admin(stack)
    budget = api.budget(region_admin, "career-guidance")
    voucher = api.issue(region_admin, budget["id"])
    # the matching service learns of the voucher from its event, a moment after the answer
    region_admin.until_ok("GET", f"/recommendations/{voucher['id']}")
    offerings = api.offerings(stack, "pirkanmaa", "career-guidance")
    api.earlier_customers(stack, offerings)
    maija = Browser(stack.url)
    maija.sign_in(user="citizen-maija")
    try:
        path = f"/vouchers/{voucher['id']}/compare"
        r = maija.http.get(path, params={"lang": "fi"})
        assert r.status_code == 200
        page = r.text
        assert 'id="no-ranking"' not in page
        # the table at a glance, with its caption and headers
        assert 'id="glance-title"' in page and '<th scope="col">Arviot</th>' in page
        assert page.count('<th scope="row">') >= 2
        assert "Liian vähän osallistujia tulosten näyttämiseen" in page
        assert "2 arviota: liian vähän keskiarvon näyttämiseen" in page
        assert "4,3 / 5 tähteä, 3 arviota: vähän arvioita, heikko ohje" in page
        assert "Toimitilan saavutettavuus" in page and "Uudet asiakkaat" in page
        # every eligible offering is ranked, not only one search page's
        ranking = api.Actor(stack, user="citizen-maija").until_ok(
            "GET", f"/recommendations/{voucher['id']}")
        assert page.count('class="factors"') == min(ranking["eligible_count"], 20)
        sv = maija.http.get(path, params={"lang": "sv"}).text
        assert "För få deltagare för att visa resultat" in sv
        # a page that does not exist, or is no number, is the first or the last one
        for bad in ("0", "abc", "99999", "-1", "1e9", "２"):
            r = maija.http.get(path, params={"page": bad})
            assert r.status_code == 200, bad
    finally:
        maija.close()
