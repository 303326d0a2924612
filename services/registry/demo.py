"""Demo data for ``make run``: a dozen providers in different states across the three demo
regions, with offerings in several languages; every text in Finnish, Swedish and English.
Loaded through the registry's own API, so it goes through the same validation, audit log and
events as real data; safe to run again (idempotency keys; what exists already is left as it
is)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from contracts.principal import Principal, Role, encode
from services.registry.domain.business_id import business_id_of


def business_id(seven: str) -> str:
    made = business_id_of(int(seven))
    if made is None:
        raise ValueError(seven)
    return made


# The premises of some demo offerings, by (seven digits, offering index).
PREMISES: dict[tuple[str, int], dict[str, Any]] = {
    ("3141593", 0): {"street_address": "Hämeenkatu 10", "postcode": "33100",
                     "post_office": "Tampere", "accessibility": ["step_free_entrance", "lift"]},
    ("2718282", 0): {"street_address": "Satakunnankatu 18", "postcode": "33210",
                     "post_office": "Tampere", "accessibility": []},
    ("1414213", 0): {"street_address": "Itsenäisyydenkatu 2", "postcode": "33500",
                     "post_office": "Tampere",
                     "accessibility": ["step_free_entrance", "accessible_toilet",
                                       "induction_loop"],
                     "accessibility_note": "Esteetön sisäänkäynti pihan puolelta."},
    ("2645751", 0): {"street_address": "Kauppakatu 5", "postcode": "60100",
                     "post_office": "Seinäjoki", "accessibility": ["accessible_parking"]},
}

# (seven digits, name, regions, final state per region, description (fi, sv, en), offerings)
PROVIDERS: list[dict[str, Any]] = [
    {"n": "3141593", "name": "Polku Valmennus Oy", "regions": ["pirkanmaa"],
     "state": "approved", "desc": ("Työnhakuvalmennusta Tampereella ja etänä.",
                                   "Jobbsökarträning i Tammerfors och på distans.",
                                   "Job-search coaching in Tampere and online."),
     "offerings": [("job-search-coaching", ["837", "536"], False, ["fi", "en"], 95_000, 12),
                   ("career-guidance", [], True, ["fi"], 60_000, 30)]},
    {"n": "2718282", "name": "Osaamo Koulutus Oy", "regions": ["pirkanmaa", "etela-pohjanmaa"],
     "state": "approved", "desc": ("Ammatillista täydennyskoulutusta aikuisille.",
                                   "Yrkesinriktad fortbildning för vuxna.",
                                   "Vocational training for adults."),
     "offerings": [("competence-training", ["837", "211"], False, ["fi", "sv"], 240_000, 20),
                   ("competence-training", ["743"], False, ["fi"], 210_000, 15)]},
    {"n": "1414213", "name": "Monikielinen Ura ry", "regions": ["pirkanmaa"],
     "state": "approved", "desc": ("Uraohjausta maahan muuttaneille omalla kielellä.",
                                   "Karriärvägledning för inflyttade på det egna språket.",
                                   "Career guidance for newcomers in their own language."),
     "offerings": [("career-guidance", ["837"], True, ["fi", "en", "ar", "so", "uk"],
                    55_000, 25)]},
    {"n": "1732050", "name": "Rekrytalo Pohjola Oy", "regions": ["pohjois-pohjanmaa"],
     "state": "approved", "desc": ("Rekrytointiapua pk-yrityksille Oulun seudulla.",
                                   "Rekryteringshjälp för små företag i Uleåborgsregionen.",
                                   "Recruitment help for SMEs around Oulu."),
     "offerings": [("recruitment-help", ["564", "244"], False, ["fi", "en"], 180_000, 8)]},
    {"n": "2236067", "name": "Kasvuvoima Consulting Oy", "regions": ["pohjois-pohjanmaa"],
     "state": "approved", "desc": ("Yritysten kehittämis- ja kansainvälistymispalvelut.",
                                   "Tjänster för företagsutveckling och internationalisering.",
                                   "Business development and internationalisation."),
     "offerings": [("business-development", ["564"], True, ["fi", "en"], 300_000, 10),
                   ("internationalisation", [], True, ["en", "fi", "sv"], 450_000, 6)]},
    {"n": "2645751", "name": "Lakeus Työvalmennus Oy", "regions": ["etela-pohjanmaa"],
     "state": "approved", "desc": ("Työvalmennusta Seinäjoella ja Lapualla.",
                                   "Arbetsträning i Seinäjoki och Lappo.",
                                   "Job coaching in Seinäjoki and Lapua."),
     "offerings": [("job-search-coaching", ["743", "408"], False, ["fi"], 85_000, 14)]},
    {"n": "3316624", "name": "Birkaland Karriär Ab", "regions": ["pirkanmaa"],
     "state": "approved", "desc": ("Uraohjausta ruotsiksi ja suomeksi.",
                                   "Karriärvägledning på svenska och finska.",
                                   "Career guidance in Swedish and Finnish."),
     "offerings": [("career-guidance", ["837"], True, ["sv", "fi"], 58_000, 10)]},
    {"n": "1618033", "name": "Uusi Alku Osuuskunta", "regions": ["pirkanmaa"],
     "state": "applied", "desc": ("Uusi palveluntuottaja, hakemus käsittelyssä.",
                                  "En ny tjänsteproducent; ansökan behandlas.",
                                  "A new provider; application under review."), "offerings": []},
    {"n": "2449489", "name": "Perämeren Palvelut Oy", "regions": ["pohjois-pohjanmaa"],
     "state": "applied", "desc": ("Työnhakuvalmennusta Raahen seudulla.",
                                  "Jobbsökarträning i Brahestadsregionen.",
                                  "Job-search coaching around Raahe."), "offerings": []},
    {"n": "2828427", "name": "Nopea Raha Oy", "regions": ["pirkanmaa"],
     "state": "suspended", "desc": ("Valmennuspalveluja.",
                                   "Träningstjänster.", "Coaching services."),
     "offerings": [("job-search-coaching", ["908"], False, ["fi"], 99_000, 5)]},
    {"n": "3605551", "name": "Varjo Koulutus Oy", "regions": ["etela-pohjanmaa"],
     "state": "revoked", "desc": ("Koulutuspalveluja.",
                                   "Utbildningstjänster.", "Training services."), "offerings": []},
    {"n": "1259921", "name": "Keskeneräinen Oy", "regions": ["pohjois-pohjanmaa"],
     "state": "rejected", "desc": ("Hakemuksesta puuttui liitteitä.",
                                   "Ansökan saknade bilagor.",
                                   "The application lacked attachments."), "offerings": []},
]

TITLES: dict[str, tuple[str, str, str]] = {
    "job-search-coaching": ("Työnhakuvalmennus", "Jobbsökarträning", "Job-search coaching"),
    "career-guidance": ("Uraohjaus", "Karriärvägledning", "Career guidance"),
    "competence-training": ("Osaamisen kehittäminen", "Kompetensutveckling",
                            "Competence training"),
    "recruitment-help": ("Rekrytointiapu", "Rekryteringshjälp", "Recruitment help"),
    "business-development": ("Yrityksen kehittäminen", "Företagsutveckling",
                             "Business development"),
    "internationalisation": ("Kansainvälistyminen", "Internationalisering",
                             "Internationalisation"),
}

def _ok(r: httpx.Response) -> bool:
    """True when done now (or replayed from an earlier run with the same Idempotency-Key);
    False when an earlier run did it already (a 409 for a state reached before, or a 422 for
    an Idempotency-Key used on an earlier day with that day's dates); else an error."""
    if r.is_success:
        return True
    if r.status_code == 409:
        return False
    if r.status_code == 422 and "Idempotency-Key" in r.text:
        return False
    raise RuntimeError(f"demo data refused: {r.request.method} {r.request.url} "
                       f"{r.status_code} {r.text}")


async def load(client: httpx.AsyncClient, secret: str) -> None:
    def auth(p: Principal) -> dict[str, str]:
        return {"X-Seteli-Principal": encode(p, secret, ttl_seconds=300)}

    def admin(region: str) -> dict[str, str]:
        return auth(Principal(sub=f"demo-admin-{region}", role=Role.region_admin,
                              region=region))

    valid_until = (date.today() + timedelta(days=365)).isoformat()
    for i, spec in enumerate(PROVIDERS):
        bid = business_id(spec["n"])
        r = await client.post("/providers", headers={"Idempotency-Key": f"demo-{bid}"}, json={
            "business_id": bid, "legal_name": spec["name"],
            "contact_name": "Asiakaspalvelu", "contact_email": f"info{i}@demo{i}.example.fi",
            "phone": "+358 40 123 4567", "website": f"https://demo{i}.example.fi",
            "description": dict(zip(("fi", "sv", "en"), spec["desc"], strict=True)),
            "regions": spec["regions"]})
        if not _ok(r):
            continue  # loaded by an earlier run whose answer is no longer kept
        pid = r.json()["id"]
        staff = auth(Principal(sub=f"demo-staff-{pid}", role=Role.provider, provider_id=pid))
        for region in spec["regions"]:
            url = f"/providers/{pid}/accreditations/{region}/decisions"
            steps: list[dict[str, Any]] = {
                "applied": [],
                "approved": [{"decision": "approve", "valid_until": valid_until}],
                "suspended": [{"decision": "approve", "valid_until": valid_until}],
                "revoked": [{"decision": "approve", "valid_until": valid_until},
                            {"decision": "revoke"}],
                "rejected": [{"decision": "reject"}],
            }[spec["state"]]
            for step in steps:
                _ok(await client.post(url, headers=admin(region),
                                      json=step | {"reason": "demo data"}))
        start = date.today() + timedelta(days=7)
        for j, (stype, munis, remote, langs, price, cap) in enumerate(spec["offerings"]):
            region = next((r for r in spec["regions"] if _in_region(munis, r)),
                          spec["regions"][0])
            fi, sv, en = TITLES[stype]
            _ok(await client.post("/offerings", headers=staff | {
                "Idempotency-Key": f"demo-offering-{bid}-{j}"}, json={
                "region": region, "service_type": stype,
                "title": {"fi": f"{fi} – {spec['name']}", "sv": sv, "en": en},
                "description": dict(zip(("fi", "sv", "en"), spec["desc"], strict=True)),
                "municipalities": munis, "remote": remote, "languages": langs,
                "unit_price_cents": price, "capacity": cap,
                "next_start": (start + timedelta(days=7 * (i + j))).isoformat(),
                "duration_days": 42} | PREMISES.get((spec["n"], j), {})))
        if spec["state"] == "suspended":
            _ok(await client.post(f"/providers/{pid}/accreditations/{spec['regions'][0]}"
                                  "/decisions", headers=admin(spec["regions"][0]),
                                  json={"decision": "suspend",
                                        "reason": "demo data: complaints under review"}))


def _in_region(munis: list[str], region: str) -> bool:
    from services.registry.domain.places import MUNICIPALITIES

    return bool(munis) and all(MUNICIPALITIES[m][2] == region for m in munis)
