"""The search table and its text index against the plain filter: over random offerings
(imported in bulk, some changed, some withdrawn, their provider suspended and reinstated) and
random queries, the indexed search returns exactly the offerings that a plain reading of their
fields selects, in the same order (title matches first, then next start, then publication),
Swedish names and folded accents included.
Then the bounded count, and the import's report, idempotency and refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.registry import search_index
from services.registry.domain.places import MUNICIPALITIES
from services.registry.domain.search import fold
from services.registry.schemas.common import today
from tests.integration.registry.conftest import Registry, offering_body

NAMES = {code: [fi] + ([sv] if sv else []) for code, (fi, sv, _r) in MUNICIPALITIES.items()}
PIRKANMAA = ["837", "536", "604", "108", "020"]
OULU = ["564", "139", "425"]
TEXTS = ["Työnhaun valmennus", "Jobbsökarträning", "Uraohjaus ryhmässä", "Karriärvägledning",
         "CAFÉ-kurssi", "Digitaidot ja kielikoulutus", "Yrittäjän kasvu", "Rekrytointi",
         "ÅBO-kurs på svenska", "etänä", "valmennus 100%_ varma"]
WORDS = ["valmennus", "VALMEN", "ura", "ur", "ryhmä", "ryhma", "tammerfors", "Tampere",
         "uleåborg", "ULEABORG", "oulu", "birkala", "cafe", "café", "kurs", "å", "svenska",
         "jobbsökar", "palvelu 3", "100%_", "zzz", "etana", "kasvu", "oy"]


@dataclass
class Model:
    """What the register holds, as plainly as it can be said."""

    providers: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (region, name)
    offerings: dict[str, dict[str, Any]] = field(default_factory=dict)  # id: body + seq
    seq: int = 0
    suspended: set[str] = field(default_factory=set)


def bodies(region: str) -> st.SearchStrategy[dict[str, Any]]:
    places = PIRKANMAA if region == "pirkanmaa" else OULU
    return st.fixed_dictionaries({
        "region": st.just(region),
        "service_type": st.sampled_from(["job-search-coaching", "career-guidance"]),
        "title": st.fixed_dictionaries({"fi": st.sampled_from(TEXTS)},
                                       optional={"sv": st.sampled_from(TEXTS)}),
        "description": st.fixed_dictionaries({"fi": st.sampled_from(TEXTS)},
                                             optional={"en": st.sampled_from(TEXTS)}),
        "municipalities": st.lists(st.sampled_from(places), min_size=1, max_size=2,
                                   unique=True),
        "remote": st.booleans(),
        "languages": st.lists(st.sampled_from(["fi", "sv", "en"]), min_size=1, max_size=2,
                              unique=True),
        "next_start": st.integers(0, 6).map(
            lambda d: (today() + timedelta(days=d)).isoformat()),
    }).map(lambda b: offering_body(**b))


queries = st.fixed_dictionaries({}, optional={
    "region": st.sampled_from(["pirkanmaa", "pohjois-pohjanmaa"]),
    "service_type": st.just("career-guidance"),
    "municipality": st.sampled_from(["837", "564", "604"]),
    "language": st.sampled_from(["sv", "en"]),
    "remote": st.booleans(),
    "q": st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join),
    "provider": st.integers(0, 2),
})


def expected(m: Model, query: dict[str, Any]) -> list[str]:
    """The plain filter: every visible offering whose fields match, in the search's order."""
    words = fold(query.get("q", "")).split()
    out = []
    for oid, o in m.offerings.items():
        region, name = m.providers[o["provider_id"]]
        if o["withdrawn"] or o["region"] != region or o["provider_id"] in m.suspended:
            continue
        if query.get("provider_id") not in (None, o["provider_id"]):
            continue
        if any(query.get(k) not in (None, o[k]) for k in ("region", "service_type", "remote")):
            continue
        if query.get("municipality") and query["municipality"] not in o["municipalities"]:
            continue
        if query.get("language") and query["language"] not in o["languages"]:
            continue
        title = fold(" ".join(v for v in o["title"].values() if v))
        whole = fold(" ".join([title, name, *(v for v in o["description"].values() if v),
                               *(n for c in o["municipalities"] for n in NAMES[c])]))
        if all(w in whole for w in words):
            tier = 0 if all(w in title for w in words) else 1
            out.append(((tier, o["next_start"], o["seq"]), oid))
    return [oid for _, oid in sorted(out)]


async def found(registry: Registry, query: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Every page of the search (three at a time), and the total each page gave."""
    ids: list[str] = []
    totals: list[int] = []
    params: dict[str, Any] = query | {"limit": 3}
    for _ in range(100):
        r = await registry.client.get("/offerings", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        ids += [x["id"] for x in page["items"]]
        totals.append(page["total"])
        assert page["total_exact"]
        if not page["next_cursor"]:
            return ids, totals
        params = query | {"limit": 3, "cursor": page["next_cursor"]}
    raise AssertionError("no end to the pages")


async def imported(registry: Registry, m: Model, pid: str, items: list[dict[str, Any]]
                   ) -> list[str]:
    r = await registry.client.post("/offerings/imports", json={"items": items},
                                   headers=registry.staff(pid))
    assert r.status_code == 201, r.text
    for row, item in zip(r.json()["items"], items, strict=True):
        m.seq += 1
        m.offerings[row["id"]] = item | {"provider_id": pid, "seq": m.seq, "withdrawn": False}
    return [row["id"] for row in r.json()["items"]]


@pytest.fixture
async def register(registry: Registry) -> tuple[Registry, Model]:
    m = Model()
    for i, region in enumerate(["pirkanmaa", "pirkanmaa", "pohjois-pohjanmaa"]):
        pid = await registry.accredited_provider(40 + i, region)
        m.providers[pid] = (region, f"Palvelu {40 + i} Oy")
    return registry, m


@settings(max_examples=15, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_indexed_search_returns_what_the_plain_filter_returns(
        register: tuple[Registry, Model], data: st.DataObject) -> None:
    """Each example publishes its own offerings and withdraws them at the end, so that the
    examples do not depend on each other."""
    registry, m = register
    mine: list[str] = []
    try:
        for pid, (region, _name) in sorted(m.providers.items()):
            new = data.draw(st.lists(bodies(region), max_size=4), f"offerings of {pid}")
            if new:
                mine += await imported(registry, m, pid, new)
        change, withdraw = data.draw(st.tuples(st.integers(0, 99), st.integers(0, 99)))
        if mine and change < 50:
            oid = mine[change % len(mine)]
            o = m.offerings[oid]
            body = data.draw(bodies(o["region"]), "new details")
            r = await registry.client.put(
                f"/offerings/{oid}", json=body,
                headers=registry.staff(o["provider_id"]) | {"If-Match": "*"})
            assert r.status_code == 200, r.text
            o |= body
        if mine and withdraw < 30:
            await withdrawn(registry, m, mine[withdraw % len(mine)])
        if data.draw(st.integers(0, 99), "suspension") < 30:
            await decided(registry, m, sorted(m.providers)[change % 2], "suspend")
        for _ in range(3):
            query = data.draw(queries, "query")
            if "provider" in query:
                query["provider_id"] = sorted(m.providers)[query.pop("provider")]
            ids, totals = await found(registry, query)
            want = expected(m, query)
            assert ids == want, query
            assert set(totals) == {len(want)}, query
    finally:
        for pid in sorted(m.suspended):
            await decided(registry, m, pid, "reinstate")
        for oid in mine:
            if not m.offerings[oid]["withdrawn"]:
                await withdrawn(registry, m, oid)


async def decided(registry: Registry, m: Model, pid: str, decision: str) -> None:
    """Suspend or reinstate a provider in its region (which hides or shows its offerings)."""
    region = m.providers[pid][0]
    r = await registry.client.post(f"/providers/{pid}/accreditations/{region}/decisions",
                                   json={"decision": decision, "reason": "property test"},
                                   headers=registry.admin(region))
    assert r.status_code == 200, r.text
    if decision == "suspend":
        m.suspended.add(pid)
    else:
        m.suspended.discard(pid)


async def withdrawn(registry: Registry, m: Model, oid: str) -> None:
    r = await registry.client.post(f"/offerings/{oid}/withdrawal",
                                   headers=registry.staff(m.offerings[oid]["provider_id"]))
    assert r.status_code == 200, r.text
    m.offerings[oid]["withdrawn"] = True


async def test_the_count_is_bounded(register: tuple[Registry, Model],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    registry, m = register
    pid = next(iter(m.providers))
    await imported(registry, m, pid, [offering_body(title={"fi": f"Kurssi {i}"})
                                      for i in range(6)])
    monkeypatch.setattr(search_index, "COUNT_LIMIT", 4)
    page = (await registry.client.get("/offerings", params={"limit": 2, "q": "kurssi"})).json()
    assert (page["total"], page["total_exact"], len(page["items"])) == (4, False, 2)
    page = (await registry.client.get("/offerings", params={"limit": 2, "q": "kurssi 5"})
            ).json()
    assert (page["total"], page["total_exact"]) == (1, True)
    monkeypatch.setattr(search_index, "COUNT_LIMIT", 10)
    page = (await registry.client.get("/offerings", params={"limit": 2, "q": "kurssi"})).json()
    assert (page["total"], page["total_exact"]) == (6, True)


async def test_a_language_follows_suspension_withdrawal_and_changes(
        register: tuple[Registry, Model]) -> None:
    """The language index (``offering_search_language``) drives a search by language without
    words: it follows the provider's accreditation, a withdrawal and a changed offering."""
    registry, m = register
    pid, other = sorted(p for p, (region, _) in m.providers.items() if region == "pirkanmaa")
    mine = await imported(registry, m, pid, [
        offering_body(languages=["sv"], service_type="career-guidance"),
        offering_body(languages=["fi", "sv"], service_type="job-search-coaching")])
    theirs = await imported(registry, m, other, [offering_body(languages=["sv"])])
    shapes = [{"language": "sv"}, {"language": "sv", "region": "pirkanmaa"},
              {"language": "sv", "region": "pirkanmaa", "service_type": "career-guidance"},
              {"language": "sv", "service_type": "career-guidance", "remote": "false"},
              {"language": "sv", "region": "pohjois-pohjanmaa"}]

    async def check() -> None:
        for query in shapes:
            ids, totals = await found(registry, query)
            want = expected(m, query | {"remote": False} if "remote" in query else query)
            assert ids == want and set(totals) <= {len(want)}, query

    await check()
    await decided(registry, m, pid, "suspend")
    await check()
    assert mine[0] not in (await found(registry, {"language": "sv"}))[0]
    await decided(registry, m, pid, "reinstate")
    await check()
    body = offering_body(languages=["en"], service_type="career-guidance")
    r = await registry.client.put(f"/offerings/{mine[0]}", json=body,
                                  headers=registry.staff(pid) | {"If-Match": "*"})
    assert r.status_code == 200, r.text
    m.offerings[mine[0]] |= body
    await withdrawn(registry, m, theirs[0])
    await check()
    assert (await found(registry, {"language": "sv", "region": "pirkanmaa"}))[0] == [mine[1]]
