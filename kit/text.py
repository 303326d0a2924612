"""Strict types for what people write and for numbers, shared by every API model.

Human text (names, titles, descriptions, reasons) refuses what should never be stored or shown:
control characters (NUL and the C0/C1 controls; a line break only where the field allows
several lines), bidirectional embeddings, overrides and isolates (they make text display
other than it reads, "Trojan Source"), zero-width and invisible characters, line and paragraph
separators, unassigned code points, surrogates and non-characters. What is kept is NFC
normalised, so the same name is stored one way however it was typed.

Numbers are strict: ``"100"`` is not 100 and ``true`` is not 1 (``StrictInt``, ``StrictBool``);
use them in request bodies, never in query parameters (those arrive as text).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Strict

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
INVISIBLE = frozenset("\u00ad\u115f\u1160\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063"
                      "\u2064\u3164\ufeff\uffa0")
LINE_BREAKS = frozenset("\n\r\t")


def refusal(text: str, *, multiline: bool) -> str | None:
    """Why ``text`` is not acceptable human text, or None."""
    for ch in text:
        if multiline and ch in LINE_BREAKS:
            continue
        code = ord(ch)
        if ch in BIDI_CONTROLS:
            return f"must not contain the bidirectional control character U+{code:04X}"
        if ch in INVISIBLE:
            return f"must not contain the invisible character U+{code:04X}"
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"must not contain the control character U+{code:04X}"
        if category in ("Cs", "Cn", "Zl", "Zp") or (code & 0xFFFE) == 0xFFFE:
            return f"must not contain the character U+{code:04X}"
    return None


def _checked(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        why = refusal(value, multiline=multiline)
        if why is not None:
            raise ValueError(why)
        return unicodedata.normalize("NFC", value)

    return AfterValidator(check)


SINGLE_LINE = _checked(multiline=False)
MULTI_LINE = _checked(multiline=True)

HumanText = Annotated[str, SINGLE_LINE]
"""One line written by a person (a name, a title, a short reason)."""
HumanParagraph = Annotated[str, MULTI_LINE]
"""Text written by a person that may span lines (a description, evidence)."""
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
