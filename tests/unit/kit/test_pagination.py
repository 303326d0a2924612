"""The signed cursors of kit.pagination: a position comes back only from a cursor this
signer made for the same list, and only within the position's declared ranges."""

from __future__ import annotations

import base64

import pytest
from pydantic import Field

from kit.errors import Unprocessable
from kit.pagination import CursorPosition, CursorSigner, paginate


class Before(CursorPosition):
    before: int = Field(ge=1, le=2**63 - 1)


def refused(call: object) -> None:
    with pytest.raises(Unprocessable) as err:
        call()  # type: ignore[operator]
    assert err.value.errors and err.value.errors[0].field == "cursor"


def test_round_trip_and_every_forgery() -> None:
    signer = CursorSigner("s" * 40)
    cursor = signer.encode("audit", Before(before=42))
    assert signer.decode("audit", cursor, Before) == Before(before=42)
    refused(lambda: signer.decode("history", cursor, Before))  # another list
    refused(lambda: CursorSigner("t" * 40).decode("audit", cursor, Before))  # another key
    body, _, tag = cursor.partition(".")
    refused(lambda: signer.decode("audit", body, Before))  # no signature
    refused(lambda: signer.decode("audit", body + "." + tag[::-1], Before))
    refused(lambda: signer.decode("audit", "!!!.???", Before))
    # Well signed but out of range or of the wrong type: validated all the same.
    for position in ('{"before": 9223372036854775808}', '{"before": "1"}', '{"before": 0}',
                     '{"before": 1, "extra": 2}', "[]"):
        payload = position.encode()
        forged = (base64.urlsafe_b64encode(payload).decode().rstrip("=") + "."
                  + base64.urlsafe_b64encode(signer._tag("audit", payload)).decode().rstrip("="))
        refused(lambda f=forged: signer.decode("audit", f, Before))


def test_paginate_cuts_the_page_and_names_the_next_position() -> None:
    rows = list(range(10, 0, -1))
    page = paginate(rows[:4], 3, lambda n: Before(before=n))
    assert page.items == [10, 9, 8] and page.next == Before(before=8)
    last = paginate(rows[:3], 3, lambda n: Before(before=n))
    assert last.items == [10, 9, 8] and last.next is None
    assert paginate([], 3, lambda n: Before(before=n)).next is None
