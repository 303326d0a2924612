"""Voucher codes: unguessable, and readable over the phone.

Crockford's base32 (digits and letters without I, L, O and U, so nothing is mistaken for
anything else) with his check symbol (the value modulo 37, from the 32 symbols plus ``*~$=U``).
16 symbols carry 80 random bits; they are shown in groups of four with the check symbol last:
``7K3M-0QXW-9D2F-HB6T-V``. Reading accepts lower case, the look-alikes I/L → 1 and O → 0, and
any hyphens or spaces, and refuses a code whose check symbol does not match (one wrong or two
swapped symbols are always caught).
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
SYMBOLS = 16
RANDOM_BYTES = SYMBOLS * 5 // 8  # 10 bytes = 80 bits
_VALUE = {c: i for i, c in enumerate(ALPHABET)} | {"I": 1, "L": 1, "O": 0}


class InvalidCode(ValueError):
    pass


def _check(value: int) -> str:
    return CHECK_ALPHABET[value % 37]


def make_code(random_bytes: bytes) -> str:
    """A code from ``RANDOM_BYTES`` random bytes (the caller draws them with ``secrets``)."""
    if len(random_bytes) != RANDOM_BYTES:
        raise ValueError(f"a code needs {RANDOM_BYTES} random bytes")
    value = int.from_bytes(random_bytes, "big")
    symbols = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(SYMBOLS)))
    groups = [symbols[i:i + 4] for i in range(0, SYMBOLS, 4)]
    return "-".join([*groups, _check(value)])


def read_code(text: str) -> str:
    """The canonical form of a code someone typed or read out; :class:`InvalidCode` if it is
    not one (wrong length, unknown symbol or check symbol)."""
    raw = "".join(text.split()).replace("-", "").upper()
    if len(raw) != SYMBOLS + 1:
        raise InvalidCode(f"a voucher code has {SYMBOLS} symbols and a check symbol")
    body, check = raw[:-1], {"I": "1", "L": "1", "O": "0"}.get(raw[-1], raw[-1])
    try:
        value = 0
        for c in body:
            value = value * 32 + _VALUE[c]
    except KeyError:
        raise InvalidCode("a voucher code has only Crockford base32 symbols") from None
    if check not in CHECK_ALPHABET or _check(value) != check:
        raise InvalidCode("the check symbol does not match: a symbol was misread")
    return make_code(value.to_bytes(RANDOM_BYTES, "big"))
