"""The search's folding of text, its words and its order key."""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.domain.search import (
    fold,
    order_key,
    place_names,
    query_words,
    search_text,
    seq_of,
    tier,
)


def test_fold_drops_case_accents_and_invisible_characters() -> None:
    assert fold("Hämeenkyrö  ÅBO\tCafé") == "hameenkyro abo cafe"
    assert fold("ura\u200bohjaus\u202e") == "uraohjaus"
    assert fold("STRASSE straße") == "strasse strasse"


def test_query_words_are_distinct_folded_and_few() -> None:
    assert query_words("Ura uraohjaus  URA ryhmä") == ["uraohjaus", "ryhma"]
    assert query_words("  ") == [] and query_words(None) == []
    assert len(query_words(" ".join(f"w{i}x" for i in range(20)))) == 8


def test_search_text_holds_places_in_both_languages_and_title_first() -> None:
    places = place_names([{"fi": "Tampere", "sv": "Tammerfors", "en": "Tampere"},
                          {"fi": "Nokia", "sv": "Nokia"}])
    assert places == ["Tampere", "Tammerfors", "Nokia"]
    st = search_text({"fi": "Työnhaku", "sv": None}, {"fi": "Ryhmässä"}, "Valmennus Oy", places)
    assert st.title == "tyonhaku"
    assert st.text == "tyonhaku valmennus oy ryhmassa tampere tammerfors nokia"
    assert tier(["tyon"], st) == 0 and tier(["tyon", "tammer"], st) == 1


def test_order_key_sorts_as_start_then_sequence() -> None:
    a = order_key(date(2027, 1, 1), 5)
    b = order_key(date(2027, 1, 1), 6)
    c = order_key(date(2027, 1, 2), 1)
    assert a < b < c and seq_of(b) == 6 and c < 2**63
    with pytest.raises(ValueError, match="out of range"):
        order_key(date(2027, 1, 1), 0)
    with pytest.raises(ValueError, match="out of range"):
        order_key(date(2027, 1, 1), 2**32)
