"""The shapes that cross boundaries: event envelopes, subjects, ids and principal tokens."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from contracts.events import STREAMS, Envelope, uuid7
from contracts.principal import InvalidPrincipal, Principal, Role, decode, encode
from contracts.registry import ProviderApplied

SECRET = "x" * 40


def test_uuid7_is_version_7_and_time_ordered() -> None:
    ids = [uuid7() for _ in range(200)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    stamps = [u.int >> 80 for u in ids]
    assert stamps == sorted(stamps)
    assert abs(stamps[-1] - int(time.time() * 1000)) < 5_000
    assert len(set(ids)) == len(ids)


def test_event_subject_type_and_stream() -> None:
    assert ProviderApplied.subject() == "seteli.registry.v1.provider.applied"
    assert ProviderApplied.event_type() == "fi.seteli.registry.provider.applied.v1"
    prefix = STREAMS["REGISTRY"].removesuffix(">")
    assert ProviderApplied.subject().startswith(prefix)


def test_envelope_round_trip_ignores_unknown_fields() -> None:
    payload = ProviderApplied(provider_id="p1", business_id="1234567-1", legal_name="Oy",
                              regions=["pirkanmaa"])
    env = payload.envelope(resource="p1")
    raw = env.model_dump_json()
    back = Envelope.model_validate_json(raw)
    assert back.id == env.id and back.type == env.type and back.subject == "p1"
    newer = back.model_copy(update={"data": {**back.data, "added_in_a_later_version": 1}})
    again = ProviderApplied.model_validate(newer.data)
    assert again == payload


def test_principal_round_trip_and_rejections() -> None:
    p = Principal(sub="u1", role=Role.region_admin, region="pirkanmaa")
    assert decode(encode(p, SECRET), SECRET) == p
    with pytest.raises(InvalidPrincipal):
        decode(encode(p, SECRET), "y" * 40)
    with pytest.raises(InvalidPrincipal):
        decode(encode(p, SECRET, ttl_seconds=-60), SECRET)
    forged = jwt.encode({"sub": "u1", "role": "region_admin"}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidPrincipal):  # no audience/issuer: not one of ours
        decode(forged, SECRET)
    unsigned = jwt.encode({"sub": "u1", "role": "region_admin", "aud": "seteli-services",
                           "iss": "seteli-gateway"}, key=None, algorithm="none")
    with pytest.raises(InvalidPrincipal):
        decode(unsigned, SECRET)


def test_provider_applied_names_its_region_in_both_spellings() -> None:
    """Since 1.1 one event per region (``region``, ``regions == [region]``); a 1.0 event lists
    every region of one application in ``regions``. Neither is the provider's whole set."""
    new = ProviderApplied(provider_id="p1", business_id="1234567-1", legal_name="Oy",
                          region="pirkanmaa")
    assert (new.region, new.regions, new.state, new.version) == (
        "pirkanmaa", ["pirkanmaa"], "applied", 1)
    old = ProviderApplied.model_validate({"provider_id": "p1", "business_id": "1234567-1",
                                          "legal_name": "Oy", "regions": ["a", "b"]})
    assert old.regions == ["a", "b"] and old.region == ""
    with pytest.raises(ValueError):
        ProviderApplied(provider_id="p1", business_id="1234567-1", legal_name="Oy")
