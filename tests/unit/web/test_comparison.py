"""The comparison page's reading of the matching service's answers: equal scores in one order
per voucher from page to page, outcome figures and ratings said in words (never a number below
the minimum), pages that exist, and the words in every language."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gateway.web import comparison, i18n
from gateway.web.app import environment
from gateway.web.client import Reply
from gateway.web.routes import vouchers


def ranked(*scores: int) -> dict[str, Any]:
    return {"items": [{"offering_id": f"o{i}", "provider_id": f"p{i % 2}", "score": s,
                       "factors": []} for i, s in enumerate(scores)],
            "eligible_count": 45, "excluded_count": 3, "offset": 20, "limit": 20}


def test_a_page_of_the_ranking_keeps_the_services_order_and_counts_the_whole() -> None:
    """The service orders equal scores by the voucher's own rotation, the same on every page:
    the page keeps that order (re-sorting a page's ties could not match its neighbours')."""
    data = ranked(90, 50, 50, 50, 50, 10)
    data["items"][1:5] = reversed(data["items"][1:5])
    data["excluded"] = [{"offering_id": "x1", "provider_id": "p7", "reason": "full"}]
    page = comparison.ranking_of(data)
    assert page is not None and page
    assert page.order() == ["o0", "o4", "o3", "o2", "o1", "o5", "x1"]
    assert (page.eligible, page.excluded, page.pages()) == (45, 3, 3)
    assert page.providers() == ["p0", "p1", "p7"]  # each once: the figures asked for
    nothing = comparison.ranking_of({"items": [], "excluded": [{"offering_id": "x1"}],
                                     "eligible_count": 0, "excluded_count": 1})
    assert nothing is not None and not nothing  # nothing eligible: the search is listed


@pytest.mark.parametrize(("figure", "kind"), [
    (None, "none"),
    ({"too_few_participants": True, "ratio": None}, "too_few"),
    ({"too_few_participants": False, "ratio": 1.3, "ratio_low": 1.05, "ratio_high": 1.6,
      "starts": 40}, "better"),
    ({"too_few_participants": False, "ratio": 0.7, "ratio_low": 0.5, "ratio_high": 0.95,
      "starts": 40}, "worse"),
    ({"too_few_participants": False, "ratio": 1.1, "ratio_low": 0.8, "ratio_high": 1.4,
      "starts": 20}, "as_expected"),
    ({"too_few_participants": False, "ratio": "1.1", "ratio_low": 0.8, "ratio_high": 1.4,
      "starts": 20}, "none"),  # not a number: nothing is said
    ({"too_few_participants": False, "ratio": True, "ratio_low": 0.8, "ratio_high": 1.4,
      "starts": 20}, "none"),
])
def test_an_outcome_figure_in_words(figure: dict[str, Any] | None, kind: str) -> None:
    assert comparison.outcome(figure)["kind"] == kind


@pytest.mark.parametrize(("item", "kind"), [
    (None, "none"), ({"count": 0, "mean": None}, "none"),
    ({"count": 2, "mean": None}, "hidden"), ({"count": 3, "mean": 4.3}, "few"),
    ({"count": 12, "mean": 3.9}, "shown"), ({"count": -1, "mean": 5}, "none"),
    ({"count": "7", "mean": 5}, "none"),
])
def test_ratings_in_words(item: dict[str, Any] | None, kind: str) -> None:
    assert comparison.rating(item)["kind"] == kind


def test_page_numbers_are_pages_that_exist() -> None:
    assert comparison.pages_of(0) == 1 and comparison.pages_of(20) == 1
    assert comparison.pages_of(21) == 2
    for text, page in (("2", 2), ("9", 3), ("0", 1), ("", 1), (None, 1), ("abc", 1),
                       ("-1", 1), ("99999", 1), ("２", 1), ("1e3", 1)):
        assert comparison.page_number(text, 3) == page, text


def test_by_provider_takes_the_vouchers_service_only() -> None:
    data = {"items": [{"provider_id": "p1", "service_type": "career-guidance", "count": 3},
                      {"provider_id": "p1", "service_type": "recruitment-help", "count": 9},
                      {"provider_id": 5}, "junk"]}
    assert comparison.by_provider(data, "career-guidance") == {"p1": data["items"][0]}
    assert comparison.by_provider({"detail": "x"}, "career-guidance") == {}


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_premises_words_in_every_language(lang: str) -> None:
    words = environment(lang).get_template("premises.html").module
    codes = ("step_free_entrance", "accessible_toilet", "induction_loop", "lift",
             "accessible_parking")
    names = [str(words.feature(code)).strip() for code in codes]  # type: ignore[attr-defined]
    assert all(n and n not in codes for n in names) and len(set(names)) == len(names)
    remote = {"remote": True, "municipalities": [], "accessibility": []}
    assert str(words.address(remote)) != str(words.address(  # type: ignore[attr-defined]
        {"remote": False, "municipalities": ["837"]}))
    assert str(words.new_customers({"accepting_new_customers": False})) != str(  # type: ignore[attr-defined]
        words.new_customers({"accepting_new_customers": True}))  # type: ignore[attr-defined]


class FakeApi:
    """Answers ``GET /offerings?id=…`` with the ``known`` of the ids, in their order."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.calls: list[tuple[str, Any]] = []

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        self.calls.append((path, params))
        ids = (params or {}).get("id", [])
        return {"items": [{"id": i} for i in ids if i in self.known]}


async def test_the_shown_offerings_are_asked_for_in_one_request() -> None:
    fake = FakeApi(known={"a", "b", "c"})
    got = await vouchers.offerings_shown(SimpleNamespace(api=fake),  # type: ignore[arg-type]
                                         ["c", "a", "x", "b"])
    assert [o["id"] for o in got] == ["c", "a", "b"]  # in the ranking's order; x is gone
    assert fake.calls == [("/offerings", {"id": ["c", "a", "x", "b"]})]
    assert await vouchers.offerings_shown(SimpleNamespace(api=fake), []) == []  # type: ignore[arg-type]
    assert len(fake.calls) == 1


def test_the_compare_page_says_the_figures_and_offers_no_choice_where_none_are_taken() -> None:

    from gateway.web.reference import Names

    env = environment("en")
    base = {"title": {"fi": "Uraohjaus", "en": "Career guidance"}, "unit_price_cents": 60_000,
            "languages": ["fi"], "municipalities": ["837"], "remote": False,
            "next_start": "2026-12-01", "capacity": 3, "updated_at": "2026-11-29T10:00:00Z",
            "street_address": None, "accessibility": [], "accepting_new_customers": True}
    items = [base | {"id": "o1", "provider_id": "p1", "provider_name": "Polku Oy"},
             base | {"id": "o2", "provider_id": "p2", "provider_name": "Ura ry",
                     "accepting_new_customers": False, "street_address": "Katu 1",
                     "postcode": "33100", "post_office": "Tampere",
                     "accessibility": ["lift"]}]
    ctx = SimpleNamespace(csrf_token="t", url=lambda path, **_: path, switch_links=lambda: [],
                          request=SimpleNamespace(url=SimpleNamespace(path="/vouchers/v/c")))
    html = env.get_template("vouchers/compare.html").render(
        ctx=ctx, lang="en", principal=None, status=200, total=2, current=None,
        v={"id": "v", "state": "issued", "offering_id": None, "value_cents": 50_000,
           "service_type": "career-guidance"},
        items=items, cursor=None, next_cursor=None, can_choose=True, page=1, pages=3,
        figures={"p1": {"too_few_participants": True},
                 "p2": {"too_few_participants": False, "ratio": 1.25, "ratio_low": 1.05,
                        "ratio_high": 1.5, "starts": 40}},
        ratings={"p1": {"count": 2, "mean": None}, "p2": {"count": 12, "mean": 4.3}},
        outcome=comparison.outcome, rating=comparison.rating,
        form=SimpleNamespace(values={"idempotency_key": "k"}, ok=True, errors={}, general=[]),
        names=Names([], [], "en"), ranking=comparison.ranking_of({"items": [
            {"offering_id": "o1", "score": 10, "factors": []},
            {"offering_id": "o2", "score": 5, "factors": []}]}))
    assert "Too few participants to show results (fewer than 18 started)" in html
    assert "Better than expected: 1,25 times as often" in html
    assert "95 % confidence interval 1,05–1,50; 40 started" in html
    assert "2 ratings: too few to show an average" in html
    assert "4,3 of 5 stars from 12 ratings" in html
    assert "Katu 1, 33100 Tampere" in html and "Lift" in html
    assert "No, not taking new customers now" in html
    assert 'name="offering_id" value="o1"' in html  # o1 can be chosen, o2 takes no one now
    assert 'name="offering_id" value="o2"' not in html
    assert "Page 1 of 3" in html and "Next page" in html and "Previous page" not in html


class RankingApi:
    """The matching service's paged answers for a ranking of 45 eligible and 3 left out."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def call(self, method: str, path: str, params: dict[str, Any]) -> Reply:
        self.asked.append((path, dict(params)))
        if path.startswith("/statistics"):
            return Reply(200, {}, {"items": []})
        offset, limit = params["offset"], params["limit"]
        items = [{"offering_id": f"o{i}", "provider_id": f"p{i % 4}", "score": 100 - i,
                  "factors": []} for i in range(offset, min(offset + limit, 45))]
        excluded = [{"offering_id": f"x{i}", "provider_id": "p9", "reason": "full"}
                    for i in range(max(offset - 45, 0), min(offset + limit - 45, 3))]
        return Reply(200, {}, {"items": items, "excluded": excluded, "eligible_count": 45,
                               "excluded_count": 3})


def page_ctx(api: RankingApi, page: str) -> Any:
    return SimpleNamespace(api=api, request=SimpleNamespace(query_params={"page": page}))


@pytest.mark.parametrize(("asked", "page", "offsets"), [
    ("2", 2, [20]), ("3", 3, [40]), ("9", 3, [160, 40]), ("x", 1, [0])])
async def test_the_page_asks_the_service_for_its_page_only(
        asked: str, page: int, offsets: list[int]) -> None:
    """?page=N is the service's page from offset 20 × (N − 1); a page past the end is asked
    again as the last one; the figures and ratings are asked for the page's providers only."""
    api = RankingApi()
    ranking, shown = await vouchers.ranked_page(page_ctx(api, asked), "v1")  # type: ignore[arg-type]
    assert shown == page and ranking is not None
    assert [p["offset"] for _, p in api.asked] == offsets
    assert all(p["limit"] == comparison.PAGE for _, p in api.asked)
    assert (ranking.eligible, ranking.excluded, ranking.pages()) == (45, 3, 3)
    if page == 3:  # the last 5 ranked, then the 3 left out
        assert ranking.order() == [*(f"o{i}" for i in range(40, 45)), "x0", "x1", "x2"]
    api.asked.clear()
    await vouchers.about_providers(page_ctx(api, asked),  # type: ignore[arg-type]
                                   {"region": "pirkanmaa", "service_type": "career-guidance"},
                                   ranking.providers())
    assert sorted(path for path, _ in api.asked) == ["/statistics", "/statistics/ratings"]
    for _, params in api.asked:
        assert params["provider_id"] == ranking.providers()
        assert len(params["provider_id"]) == len(set(params["provider_id"])) <= comparison.PAGE
