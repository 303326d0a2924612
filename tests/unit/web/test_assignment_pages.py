"""The default-assignment pages' own logic: a holder's voucher page says plainly that the
region chose the provider, why, and until when it can be changed; shares read as percents;
a run's CSV row; and the region admins' view of a dead letter's error."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.web import i18n
from gateway.web.app import environment
from gateway.web.client import ApiError
from gateway.web.routes import assignments
from kit.dead_letters import error_parts

VOUCHER = {"id": "v1", "state": "chosen", "offering_id": "o1", "choice_deadline": "2026-10-01",
           "valid_until": "2027-03-31"}
OFFERING = {"provider_name": "Polku Oy", "title": {"fi": "Uravalmennus", "sv": "Karriär",
                                                   "en": "Career coaching"}}
EXPLANATION = {"fi": "2. vaihtoehtosi; ensimmäinen oli täynnä",
               "sv": "ditt 2:e alternativ; det första var fullt",
               "en": "your 2nd candidate; the 1st was full"}


def render(lang: str, voucher: dict[str, Any], assigned: dict[str, Any] | None) -> str:
    template = environment(lang).get_template("vouchers/assignment.html")
    return template.render(v=voucher, assigned=assigned, offerings={"o1": OFFERING})


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_the_holder_reads_who_why_and_until_when(lang: str) -> None:
    html = render(lang, VOUCHER, {"offering_id": "o1", "explanation": EXPLANATION})
    assert "Polku Oy" in html and EXPLANATION[lang] in html
    assert i18n.day("2027-03-31", lang) in html and i18n.day("2026-10-01", lang) in html
    if lang == "en":
        assert "The region chose this provider for you" in html
        assert "You can still change the provider until the service starts" in html
    started = render(lang, VOUCHER | {"state": "started"},
                     {"offering_id": "o1", "explanation": None})
    assert "Polku Oy" in started and i18n.day("2027-03-31", lang) not in started
    assert render(lang, VOUCHER, None).strip() == ""


class FakeApi:
    def __init__(self, answer: dict[str, Any] | ApiError) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def get(self, path: str, params: Any = None) -> Any:
        self.asked.append(path)
        if isinstance(self.answer, ApiError):
            raise self.answer
        return dict(self.answer)


class FakeCtx:
    def __init__(self, api: FakeApi) -> None:
        self.api = api


async def test_the_explanation_is_asked_only_for_a_default_assignment() -> None:
    history = [{"offering_id": "o0", "chosen_by": "holder", "ended_at": "2026-10-02"},
               {"offering_id": "o1", "chosen_by": "default_assignment", "ended_at": None}]
    api = FakeApi({"offering_id": "o1", "explanation": EXPLANATION})
    got = await assignments.default_assignment(FakeCtx(api), VOUCHER, history)  # type: ignore[arg-type]
    assert got is not None and got["explanation"] == EXPLANATION
    assert api.asked == ["/recommendations/v1/assignment"]
    # a newer run proposed another offering than the one applied: no words for this one
    api = FakeApi({"offering_id": "o2", "explanation": EXPLANATION})
    got = await assignments.default_assignment(FakeCtx(api), VOUCHER, history)  # type: ignore[arg-type]
    assert got is not None and got["explanation"] is None
    # matching cannot tell: the page still says the region chose
    api = FakeApi(ApiError(503))
    got = await assignments.default_assignment(FakeCtx(api), VOUCHER, history)  # type: ignore[arg-type]
    assert got == {"offering_id": "o1", "explanation": None}
    # the holder's own choice, or no choice: nothing asked
    own = [history[0] | {"ended_at": None}]
    for h in (own, []):
        api = FakeApi(ApiError(500))
        assert await assignments.default_assignment(FakeCtx(api), VOUCHER, h) is None  # type: ignore[arg-type]
        assert api.asked == []


def test_shares_read_as_percents_and_runs_as_csv_rows() -> None:
    assert assignments.tenths(0.8754) == 875 and assignments.tenths(None) == 0
    fi, en = assignments.share_text("fi"), assignments.share_text("en")
    assert fi(0.875).replace("\xa0", " ") == "87,5 %"
    assert en(875, from_tenths=True) == en(0.875) and en(None) == "–"
    run = {"run_id": "r1", "created_at": "2026-11-29T10:00:00Z", "seed": 7,
           "score_version": "2026-12.1", "summary": {
               "vouchers": 10, "placed": 8, "placed_share": 0.8, "first_choice_share": 0.75,
               "fixed": 1, "unplaced_by_reason": {"all_full": 2}}}
    row = assignments.run_row(run)
    assert len(row) == len(assignments.RUN_COLUMNS)
    assert dict(zip(assignments.RUN_COLUMNS, row, strict=True))["all_full"] == 2
    assert assignments.run_row(run | {"summary": {}})[4] is None


def test_a_dead_letters_error_names_no_one() -> None:
    cls, text = error_parts("sqlalchemy.exc.IntegrityError: duplicate 010280-952L "
                            + "ab" * 32 + " [SQL: INSERT 'x']\n[parameters: ('y',)]")
    assert cls == "IntegrityError" and "010280-952L" not in text and "ab" * 32 not in text
    assert "SQL" not in text and "parameters" not in text
    cls, text = error_parts("no class here\u202e at all " + "z" * 500)
    assert cls == "Error" and len(text) == 200 and "\u202e" not in text
    assert error_parts("ValueError: ") == ("ValueError", "")
