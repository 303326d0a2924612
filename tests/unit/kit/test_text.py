"""Human text refuses what should never be stored; numbers are strict."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, StringConstraints, ValidationError

from kit.text import MULTI_LINE, SINGLE_LINE, StrictBool, StrictInt, refusal


class Body(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), SINGLE_LINE]
    text: Annotated[str, MULTI_LINE] = ""
    count: StrictInt = 0
    flag: StrictBool = False


@pytest.mark.parametrize("bad", ["A\x00B", "A\u202eB", "A\u2066B", "A\u200bB", "A\ufeffB",
                                 "A\u200dB", "A\x7fB", "A\x85B", "A\u2028B", "A\nB", "A\tB",
                                 "A\ud800B", "A\uffffB"])
def test_single_line_text_refuses_invisible_and_control_characters(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Body(name=bad)
    assert caught.value.errors()[0]["loc"] == ("name",)


def test_multi_line_text_keeps_line_breaks_and_refuses_the_rest() -> None:
    assert Body(name="x", text="first\nsecond\r\n\tthird").text == "first\nsecond\r\n\tthird"
    with pytest.raises(ValidationError):
        Body(name="x", text="a\x00b")
    with pytest.raises(ValidationError):
        Body(name="x", text="a\u202eb")


def test_kept_text_is_nfc_and_ordinary_scripts_pass() -> None:
    assert Body(name="Ka\u0308rkka\u0308inen").name == "Kärkkäinen"
    for name in ("Åbo Akademi", "Sámi Giellagáldu", "Дом", "日本語", "O'Brien & Co. — ok 😀"):
        assert Body(name=name).name == name


def test_numbers_and_booleans_are_strict() -> None:
    for bad in ({"count": "100"}, {"count": 1.0}, {"count": True}, {"flag": "true"},
                {"flag": 1}):
        with pytest.raises(ValidationError):
            Body.model_validate({"name": "x", **bad})
    assert Body.model_validate({"name": "x", "count": 100, "flag": True}).count == 100


@settings(deadline=None)  # timing is not what is tested (the suite shares two cores)
@given(st.text(max_size=40))
def test_what_is_accepted_has_nothing_refused_and_is_nfc(text: str) -> None:
    try:
        kept = Body(name="x", text=text).text
    except ValidationError:
        assert refusal(text, multiline=True) is not None
        return
    assert refusal(kept, multiline=True) is None
    assert unicodedata.is_normalized("NFC", kept)
