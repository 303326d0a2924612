"""The small helpers of the pages: SVG bar charts, CSV downloads, form parsing, API paths."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import cast

import pytest

from gateway.runtime import Gate
from gateway.web import charts, downloads, forms
from gateway.web.client import Api, ApiError, api_path
from gateway.web.i18n import pick


def test_bar_chart_scales_labels_and_escapes() -> None:
    svg = str(charts.bar_chart([("Tampere", 50), ("<Nokia>", 100), ("Orivesi", 0)],
                               title="Vouchers & places", value_text=lambda v: f"{v} €",
                               chart_id="c1"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="c1-title"' in svg and ">Vouchers &amp; places</title>" in svg
    widths = [int(w) for w in re.findall(r'class="bar"', svg) and
              re.findall(r'<rect [^>]*width="(\d+)"', svg)]
    assert widths[1] == charts.WIDTH - charts.LABEL - charts.VALUE  # the largest fills
    assert widths[0] == widths[1] // 2 and widths[2] == 0
    assert "&lt;Nokia&gt;" in svg and "<Nokia>" not in svg
    assert ">100 €</text>" in svg  # the value is written, not only drawn


def test_bar_chart_of_nothing_and_refusing_negatives() -> None:
    assert "<rect" not in str(charts.bar_chart([], title="empty"))
    assert 'width="0"' in str(charts.bar_chart([("a", 0)], title="zeros"))
    with pytest.raises(ValueError, match="negative"):
        charts.bar_chart([("a", -1)], title="bad")


def test_csv_quotes_and_defuses_formulas() -> None:
    text = downloads.csv_text(["who", "reason"], [
        ["admin", 'said "yes", then left'], ["=HYPERLINK(\"x\")", "+1"], [None, "-2"],
        ["@SUM(A1)", "ok\nline"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["who", "reason"]
    assert rows[1] == ["admin", 'said "yes", then left']
    assert rows[2] == ["'=HYPERLINK(\"x\")", "'+1"]
    assert rows[3] == ["", "'-2"]
    assert rows[4] == ["'@SUM(A1)", "ok\nline"]
    assert text.endswith("\r\n")


def test_csv_response_names_the_file_safely() -> None:
    resp = downloads.csv_response('../a"b\r\nc.csv', ["x"], [[1]])
    assert resp.headers["content-disposition"] == 'attachment; filename="a-b-c.csv"'
    assert resp.body.startswith("\ufeff".encode())
    assert resp.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(("text", "cents"), [
    ("950", 95_000), ("950,5", 95_050), ("1 200,50", 120_050), ("0.99", 99),
    ("12\u00a0000 €", 1_200_000)])
def test_euros(text: str, cents: int) -> None:
    assert forms.euros_to_cents(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,234", "9" * 12, "-5", "1e3", "١٢٣", "5,"])
def test_euros_refused(text: str) -> None:
    with pytest.raises(ValueError):
        forms.euros_to_cents(text)


def test_whole_numbers_and_dates() -> None:
    assert forms.whole_number("12", 0, 100) == 12
    for bad in ("", "-1", "101", "1.5", "²", "9" * 20):
        with pytest.raises(ValueError):
            forms.whole_number(bad, 0, 100)
    assert forms.calendar_date("2026-09-01") == date(2026, 9, 1)
    assert forms.calendar_date("1.9.2026") == date(2026, 9, 1)
    for bad in ("31.2.2026", "2026-13-01", "tomorrow", "1/9/2026"):
        with pytest.raises(ValueError):
            forms.calendar_date(bad)


def test_form_errors_from_the_api_land_on_fields() -> None:
    form = forms.Form()
    exc = ApiError(422, {"errors": [
        {"field": "unit_price_cents", "message": "too big"},
        {"field": "municipalities.1", "message": "not in the region"},
        {"field": "body", "message": "broken"}]})
    form.take_api_errors(exc, aliases={"unit_price_cents": "unit_price"},
                         known={"unit_price", "municipalities"})
    assert form.errors == {"unit_price": "too big", "municipalities": "not in the region"}
    assert form.general == ["body: broken"]
    assert all(m.lang == "en" for m in [*form.errors.values(), *form.general])  # type: ignore[attr-defined]
    labels = {"municipalities": "Municipalities", "unit_price": "Price"}
    assert form.summary(labels) == [("field-municipalities", "Municipalities",
                                     "not in the region"),
                                    ("field-unit_price", "Price", "too big")]


def test_api_paths_are_encoded_and_dot_segments_refused() -> None:
    assert api_path("offerings", "a/b?c") == "/offerings/a%2Fb%3Fc"
    for bad in ("..", ".", ""):
        with pytest.raises(ApiError) as info:
            api_path("offerings", bad)
        assert info.value.status == 404


@pytest.mark.parametrize("path", ["/internal/credentials/verify", "/ops/dead-letters",
                                  "/readyz", "/metrics", "/nothing"])
async def test_pages_reach_only_the_public_api(path: str) -> None:
    """The pages' client routes like /api/v1: what is not public is not found, and nothing
    is sent anywhere (the gate here has no upstream client to send with)."""
    api = Api(cast(Gate, object()), None, "127.0.0.1")
    with pytest.raises(ApiError) as info:
        await api.call("GET", path)
    assert info.value.status == 404


def test_text_in_another_language_is_marked_with_its_language() -> None:
    assert pick({"fi": "Valmennus", "sv": "Coachning"}, "sv") == ("Coachning", "sv")
    assert pick({"fi": "Valmennus", "sv": None}, "sv") == ("Valmennus", "fi")
    assert pick({"fi": "", "en": "Coaching"}, "sv") == ("Coaching", "en")
    assert pick(None, "en") == ("", "en")
