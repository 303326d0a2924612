"""Person keys (one function for the gateway and the voucher service) and the encrypted code."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from gateway.identity import InvalidCredentials
from gateway.identity import person_key as gateway_person_key
from gateway.settings import Settings as GatewaySettings
from kit.persons import (
    DEV_PERSON_KEY_SECRET,
    CodeCipher,
    InvalidPersonCode,
    normalise_hetu,
    person_key,
)

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu_of(ddmmyy: str, sign: str, individual: str) -> str:
    return f"{ddmmyy}{sign}{individual}{CHECK[int(ddmmyy + individual) % 31]}"


def test_gateway_and_kit_make_the_same_key() -> None:
    secret = "s" * 40
    assert gateway_person_key(secret, "010280-952L", allow_temporary=True) == person_key(
        secret, "010280-952l", allow_temporary=True)
    assert person_key(secret, "010280-952L", allow_temporary=True) != person_key(
        "t" * 40, "010280-952L", allow_temporary=True)
    with pytest.raises(InvalidCredentials):
        gateway_person_key(secret, "010280-952X", allow_temporary=True)


@pytest.mark.parametrize("sign", ["-", "Y", "X", "W", "V", "U"])
def test_1900s_century_signs_of_2023(sign: str) -> None:
    assert normalise_hetu(hetu_of("131052", sign, "308"), allow_temporary=False)


@pytest.mark.parametrize("sign", ["A", "B", "C", "D", "E", "F"])
def test_2000s_century_signs_of_2023(sign: str) -> None:
    code = hetu_of("010105", sign, "123")
    assert normalise_hetu(code.lower(), allow_temporary=False) == code


def test_temporary_numbers_only_when_allowed() -> None:
    assert normalise_hetu("010280-952L", allow_temporary=True) == "010280-952L"
    with pytest.raises(InvalidPersonCode) as err:
        normalise_hetu("010280-952L", allow_temporary=False)
    assert "952" not in str(err.value)
    for bad in ("", "310280-123X", "010280+123A", "x" * 200):
        with pytest.raises(InvalidPersonCode):
            normalise_hetu(bad, allow_temporary=True)


def test_cipher_round_trip_binding_and_tampering() -> None:
    cipher = CodeCipher(base64.b64encode(os.urandom(32)).decode())
    stored = cipher.encrypt("010280-952L", "key-a")
    assert b"010280" not in stored
    assert cipher.decrypt(stored, "key-a") == "010280-952L"
    assert cipher.encrypt("010280-952L", "key-a") != stored  # a fresh nonce every time
    with pytest.raises(InvalidTag):
        cipher.decrypt(stored, "key-b")
    with pytest.raises(InvalidTag):
        cipher.decrypt(stored[:-1] + bytes([stored[-1] ^ 1]), "key-a")
    with pytest.raises(ValueError):
        CodeCipher(base64.b64encode(b"short").decode())


def test_one_shared_secret_and_production_refuses_the_development_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETELI_PERSON_KEY_SECRET", "shared-" + "x" * 33)
    assert GatewaySettings().person_key_secret == "shared-" + "x" * 33
    assert GatewaySettings(person_key_secret="own-" + "y" * 36).person_key_secret.startswith(
        "own-")
    monkeypatch.delenv("SETELI_PERSON_KEY_SECRET")
    assert GatewaySettings().person_key_secret == DEV_PERSON_KEY_SECRET
    with pytest.raises(ValidationError, match="PERSON_KEY_SECRET"):
        GatewaySettings(env="production", principal_secret="p" * 40, session_secret="s" * 40)
