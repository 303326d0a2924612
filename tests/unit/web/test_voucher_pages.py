"""The voucher pages' own logic: every code the voucher service can answer has a name on the
pages in every language, budget usage sums, and reading the matching service's ranking."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.web import comparison, i18n
from gateway.web.app import environment
from gateway.web.reference import Names
from gateway.web.routes import money
from services.voucher.domain.lifecycle import VoucherState
from services.voucher.domain.reasons import ClaimRejection

CODES = [("voucher_state", s.value) for s in VoucherState] + \
    [("rejection", c.value) for c in ClaimRejection] + \
    [("claim_status", s) for s in ("submitted", "approved", "rejected", "paid")] + \
    [("milestone", m) for m in ("start", "completion", "outcome")] + \
    [("outcome", o) for o in ("employed", "studying", "not_achieved")]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_code_has_a_name_in_every_language(lang: str) -> None:
    words = environment(lang).get_template("words.html").module
    names = {(macro, code): str(getattr(words, macro)(code)).strip() for macro, code in CODES}
    for (macro, code), name in names.items():
        assert name and name != code, (lang, macro, code)
    # no two states (or reasons) share a name
    for macro in {m for m, _ in CODES}:
        shown = [n for (m, _), n in names.items() if m == macro]
        assert len(shown) == len(set(shown)), (lang, macro, shown)


def test_budget_totals_and_csv_rows_sum_the_funders() -> None:
    measures = {f"{m}_cents": 0 for m in money.MEASURES}
    budget = {"id": "b1", "service_type": "career-guidance", "period_start": "2026-01-01",
              "period_end": "2026-12-31", "status": "open", "funders": [
                  {"funder": "region", **measures, "funded_cents": 300, "available_cents": 200,
                   "committed_cents": 100},
                  {"funder": "837", **measures, "funded_cents": 50, "spent_cents": 20,
                   "available_cents": 30}]}
    t = money.totals(budget)
    assert t["funded"] == 350 and t["available"] == 230 and t["spent"] == 20
    assert t["funded"] == t["available"] + t["committed"] + t["spent"]
    rows = money.usage_rows([budget])
    assert [r[5] for r in rows] == ["region", "837"]
    assert len(rows[0]) == len(money.USAGE_COLUMNS)


def test_a_ranking_is_read_only_from_its_expected_shape() -> None:
    data = {"items": [{"offering_id": "o2", "factors": [{"code": "rating"}, "junk"]},
                      {"offering_id": "o1"}, {"offering_id": 5}, "junk"]}
    ranked = comparison.ranking_of(data)
    assert ranked is not None and ranked.order() == ["o2", "o1"]
    assert ranked.entries["o2"]["factors"] == [{"code": "rating"}]
    assert ranked.entries["o1"]["factors"] == []
    data["excluded"] = [{"offering_id": "o9", "reason": "full"}, {"offering_id": "o2"}]
    ranked = comparison.ranking_of(data)
    assert ranked is not None and ranked.order() == ["o2", "o1", "o9"]
    assert ranked.entries["o9"] == {"factors": [], "excluded": "full", "provider_id": None}
    assert (ranked.eligible, ranked.excluded) == (2, 1)
    for other in (None, [], {"items": "x"}, {"detail": "not found"}):
        assert comparison.ranking_of(other) is None


def test_a_text_missing_in_the_page_language_is_marked_with_its_own() -> None:
    text = environment("sv").globals["text"]
    assert str(text({"fi": "Uraohjaus", "sv": None})) == '<span lang="fi">Uraohjaus</span>'
    assert str(text({"fi": "Uraohjaus", "sv": "Karriär <ledning>"})) == \
        "Karriär &lt;ledning&gt;"


def test_the_ranking_factors_are_named_with_their_points() -> None:
    env = environment("fi")
    words = env.get_template("words.html").module
    for name in ("outcome", "rating", "distance", "language", "co_payment", "next_start"):
        assert 'lang="en"' not in str(words.factor(name)), name  # type: ignore[attr-defined]
    assert 'lang="en"' in str(words.factor("something_new"))  # type: ignore[attr-defined]
    offering = {"id": "o1", "provider_id": "p1", "provider_name": "Polku Oy",
                "title": {"fi": "Uraohjaus"}, "unit_price_cents": 60_000, "languages": ["fi"],
                "municipalities": [], "remote": True, "next_start": "2026-12-01",
                "capacity": 3, "updated_at": "2026-11-29T10:00:00Z"}
    ctx = SimpleNamespace(csrf_token="t", url=lambda path, **_: path, switch_links=lambda: [],
                          request=SimpleNamespace(url=SimpleNamespace(path="/vouchers/v/c")))
    html = env.get_template("vouchers/compare.html").render(
        ctx=ctx, lang="fi", principal=None, status=200, total=1, current=None,
        v={"id": "v", "state": "issued", "offering_id": None, "value_cents": 50_000,
           "service_type": "career-guidance"},
        items=[offering], cursor=None, next_cursor=None, can_choose=True, page=1, pages=1,
        figures={}, ratings={}, outcome=comparison.outcome, rating=comparison.rating,
        form=SimpleNamespace(values={"idempotency_key": "k"}, ok=True, errors={}, general=[]),
        names=Names([], [], "fi"), ranking=comparison.ranking_of({"items": [
            {"offering_id": "o1", "factors": [{"name": "outcome", "contribution": 12},
                                              {"name": "co_payment", "contribution": -5}]}]}))
    assert "Aiempien asiakkaiden tulokset (työ tai opinnot): +12 pistettä" in html
    assert "Omavastuusi: -5 pistettä" in html
    assert 'id="no-ranking"' not in html
    assert "100,00\xa0€" in html  # the co-payment: price less the voucher's value


@pytest.mark.parametrize(("lang", "exact", "inexact"), [
    ("fi", "7 palvelua löytyi", "Yli 200 palvelua löytyi"),
    ("sv", "7 tjänster hittades", "Över 200 tjänster hittades"),
    ("en", "7 services found", "More than 200 services found")])
def test_a_bounded_count_is_said_as_more_than(lang: str, exact: str, inexact: str) -> None:
    macros = environment(lang).get_template("macros.html").module
    assert str(macros.found({"total": 7, "total_exact": True})).strip() == exact  # type: ignore[attr-defined]
    assert str(macros.found({"total": 200, "total_exact": False})).strip() == inexact  # type: ignore[attr-defined]
