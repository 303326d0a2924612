"""Persons are keyed, never named (invariant 7 in docs/ARCHITECTURE.md).

:func:`person_key` is the one function that turns a henkilötunnus into the key a person is known
by everywhere in Seteli: the gateway calls it at login, the voucher service at issuance, both
with the shared secret ``SETELI_PERSON_KEY_SECRET``, so the citizen who logs in finds exactly the
vouchers issued to them. :class:`CodeCipher` keeps the code itself where it must be kept:
encrypted at rest with AES-GCM (key from the environment), bound to the person key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import hetu

DEV_PERSON_KEY_SECRET = "dev-only-person-key-secret-change-me-000"
# 32 zero-ish bytes, base64: refused in production like every other development secret.
DEV_ENCRYPTION_KEY = base64.b64encode(b"dev-only-encryption-key-32-bytes").decode()


class InvalidPersonCode(ValueError):
    """Not a valid henkilötunnus (the message never repeats the code)."""


def normalise_hetu(code: str, *, allow_temporary: bool) -> str:
    """The henkilötunnus in its canonical form (upper case; 2023 century signs accepted).
    Individual numbers 900–999 (temporary numbers, and test persons such as 010280-952L) pass
    only with ``allow_temporary``."""
    try:
        return str(hetu.validate(code, allow_temporary=allow_temporary)).upper()
    except (StdnumError, TypeError) as exc:
        raise InvalidPersonCode("not a valid personal identity code") from exc


def person_key(secret: str, henkilotunnus: str, *, allow_temporary: bool) -> str:
    """Validate a henkilötunnus and return its keyed hash (HMAC-SHA256, hex)."""
    return key_of_normalised(secret, normalise_hetu(henkilotunnus,
                                                    allow_temporary=allow_temporary))


def key_of_normalised(secret: str, code: str) -> str:
    """The person key of a code :func:`normalise_hetu` already returned."""
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


HOLDER_REF_CONTEXT = "seteli-holder-ref:"


def holder_ref(person_key_: str, voucher_id: str) -> str:
    """What a voucher's events carry instead of its holder's person key: HMAC-SHA256 keyed by
    the person key over ``"seteli-holder-ref:" + voucher_id`` (hex). A service that receives a
    citizen's principal recomputes it from the principal's ``person_key`` and compares with
    :func:`holder_ref_matches`; the events alone link no two vouchers of one person."""
    return hmac.new(person_key_.encode(), (HOLDER_REF_CONTEXT + voucher_id).encode(),
                    hashlib.sha256).hexdigest()


def holder_ref_matches(person_key_: str | None, voucher_id: str, ref: str | None) -> bool:
    """Whether ``ref`` is the holder reference of ``person_key_`` for this voucher (constant
    time)."""
    if not person_key_ or not ref:
        return False
    return hmac.compare_digest(holder_ref(person_key_, voucher_id), ref)


class CodeCipher:
    """AES-256-GCM with a random 96-bit nonce per value; the associated data (e.g. the person
    key) binds a ciphertext to its row, so it cannot be moved to another one unnoticed.
    Stored form: version byte ``1`` + nonce + ciphertext with tag."""

    VERSION = b"\x01"

    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64, validate=True)
        if len(key) != 32:
            raise ValueError("the encryption key must be 32 bytes (base64-encoded)")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, associated: str) -> bytes:
        nonce = os.urandom(12)
        return self.VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(),
                                                         associated.encode())

    def decrypt(self, stored: bytes, associated: str) -> str:
        if stored[:1] != self.VERSION:
            raise ValueError("unknown ciphertext version")
        nonce, body = stored[1:13], stored[13:]
        return self._aead.decrypt(nonce, body, associated.encode()).decode()
