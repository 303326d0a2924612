"""Voucher codes: unguessable, readable over the phone, and a misread symbol is caught."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.voucher.domain.codes import (
    ALPHABET,
    RANDOM_BYTES,
    InvalidCode,
    make_code,
    read_code,
)


@given(st.binary(min_size=RANDOM_BYTES, max_size=RANDOM_BYTES))
def test_a_code_reads_back_as_itself_however_it_is_typed(raw: bytes) -> None:
    code = make_code(raw)
    assert len(code) == 16 + 4 + 1 and code.count("-") == 4
    assert read_code(code) == code
    assert read_code(code.replace("-", " ").lower()) == code
    typed = code.replace("0", "O").replace("1", "I")  # look-alikes read as what they look like
    assert read_code(typed) == code


@given(st.binary(min_size=RANDOM_BYTES, max_size=RANDOM_BYTES), st.integers(0, 15),
       st.integers(1, 31))
def test_one_misread_symbol_is_caught(raw: bytes, where: int, shift: int) -> None:
    symbols = make_code(raw).replace("-", "")
    wrong = ALPHABET[(ALPHABET.index(symbols[where]) + shift) % 32]
    with pytest.raises(InvalidCode):
        read_code(symbols[:where] + wrong + symbols[where + 1:])


@given(st.binary(min_size=RANDOM_BYTES, max_size=RANDOM_BYTES), st.integers(0, 14))
def test_two_swapped_symbols_are_caught(raw: bytes, where: int) -> None:
    symbols = make_code(raw).replace("-", "")
    swapped = symbols[:where] + symbols[where + 1] + symbols[where] + symbols[where + 2:]
    if swapped != symbols:
        with pytest.raises(InvalidCode):
            read_code(swapped)


def test_refusals_and_randomness() -> None:
    for text in ("", "ABCD", "U" * 17, "7K3M-0QXW-9D2F-HB6T", "7K3M-0QXW-9D2F-HB6T-VV"):
        with pytest.raises(InvalidCode):
            read_code(text)
    with pytest.raises(ValueError):
        make_code(b"short")
    codes = {make_code(secrets.token_bytes(RANDOM_BYTES)) for _ in range(1_000)}
    assert len(codes) == 1_000
