"""The voucher pages' own logic: every code the voucher service can answer has a name on the
pages in every language, budget usage sums, and reading the matching service's ranking."""

from __future__ import annotations

import pytest

from gateway.web import i18n
from gateway.web.app import environment
from gateway.web.routes import money, vouchers
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
    ranked = vouchers.ranking_of(data)
    assert ranked is not None and list(ranked) == ["o2", "o1"]
    assert ranked["o2"]["factors"] == [{"code": "rating"}] and ranked["o1"]["factors"] == []
    for other in (None, [], {"items": "x"}, {"detail": "not found"}):
        assert vouchers.ranking_of(other) is None
