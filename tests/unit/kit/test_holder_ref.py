"""The holder reference on voucher events: HMAC-SHA256 keyed by the person key over the
voucher id; only that person's key matches it, and only for that voucher."""

from __future__ import annotations

import hashlib
import hmac

from kit.persons import holder_ref, holder_ref_matches

KEY = "a" * 64
OTHER = "b" * 64


def test_holder_ref_is_the_documented_hmac() -> None:
    want = hmac.new(KEY.encode(), b"seteli-holder-ref:v-1", hashlib.sha256).hexdigest()
    assert holder_ref(KEY, "v-1") == want


def test_only_the_holders_key_and_voucher_match() -> None:
    ref = holder_ref(KEY, "v-1")
    assert holder_ref_matches(KEY, "v-1", ref)
    assert not holder_ref_matches(OTHER, "v-1", ref)
    assert not holder_ref_matches(KEY, "v-2", ref)  # refs do not link two vouchers
    assert holder_ref(KEY, "v-2") != ref
    assert not holder_ref_matches(None, "v-1", ref)
    assert not holder_ref_matches(KEY, "v-1", None)
