"""What the free-text search of offerings looks in, and how text is compared.

Text is folded before it is stored and before it is searched: case folded, accents and other
combining marks removed (ä → a, å → a, é → e), control and format characters dropped, runs of
white space made one space. A query is split into words; an offering matches when every word
is a substring of its folded text (partial words match, as citizens type them). The text is
the title, the description, the provider's name and the Finnish and Swedish names of the
municipalities where it is delivered (Tampere and Tammerfors both find an offering in 837).

Results come in two tiers: offerings whose title holds every word first, then the others; in
each tier by next start date, then by the offering's sequence number (its order of
publication). Both are packed into one integer, the offering's *order key*.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

MAX_WORDS = 8
# Words shorter than this are too short for a trigram index: they only narrow the others.
INDEXED_WORD = 3
SEQ_BITS = 32
SEQ_MASK = (1 << SEQ_BITS) - 1
TITLE_TIER, OTHER_TIER = 0, 1


class _Folding(dict[int, str | None]):
    """``str.translate`` table, filled as characters are first seen: white space becomes a
    space, combining marks and control or format characters go."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        if ch.isspace():
            out: str | None = " "
        elif unicodedata.combining(ch) or unicodedata.category(ch)[0] == "C":
            out = None
        else:
            out = ch
        self[code] = out
        return out


_FOLDING = _Folding()


def fold(text: str) -> str:
    """Case folded, without accents, controls or repeated white space."""
    return " ".join(unicodedata.normalize("NFKD", text.casefold()).translate(_FOLDING).split())


@dataclass(frozen=True)
class SearchText:
    """The folded title (every language) and the folded whole text (the title included)."""

    title: str
    text: str


def search_text(title: Mapping[str, str | None], description: Mapping[str, str | None],
                provider_name: str, places: Iterable[str] = ()) -> SearchText:
    titles = fold(" ".join(v for v in title.values() if v))
    rest = fold(" ".join([provider_name, *(v for v in description.values() if v), *places]))
    return SearchText(title=titles, text=f"{titles} {rest}".strip())


def place_names(names: Iterable[Mapping[str, str]]) -> list[str]:
    """The Finnish and Swedish names of municipalities (once each)."""
    out: list[str] = []
    for name in names:
        for lang in ("fi", "sv"):
            value = name.get(lang)
            if value and value not in out:
                out.append(value)
    return out


def query_words(q: str | None) -> list[str]:
    """The distinct folded words of a query (at most :data:`MAX_WORDS`); a word that another
    word contains adds nothing and is left out."""
    words: list[str] = []
    for word in fold(q or "").split()[:MAX_WORDS]:
        if word not in words:
            words.append(word)
    return [w for w in words if not any(w != other and w in other for other in words)]


def matches(words: Iterable[str], text: str) -> bool:
    return all(w in text for w in words)


def tier(words: Iterable[str], st: SearchText) -> int:
    return TITLE_TIER if matches(words, st.title) else OTHER_TIER


def order_key(next_start: date, seq: int) -> int:
    """Next start date, then sequence number, as one integer (sorts as the pair)."""
    if not 0 < seq <= SEQ_MASK:
        raise ValueError(f"sequence number out of range: {seq}")
    return (next_start.toordinal() << SEQ_BITS) | seq


def seq_of(key: int) -> int:
    return key & SEQ_MASK
