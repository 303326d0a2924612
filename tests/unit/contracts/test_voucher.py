"""The voucher service's event contract: subjects, stream, and what never crosses it."""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from pydantic import BaseModel

import contracts.voucher
from contracts.events import STREAMS, Envelope
from contracts.voucher import (
    ASSIGNED_PER_EVENT,
    VOUCHER_EVENTS,
    AssignedChoice,
    Chooser,
    HolderKind,
    Profile,
    VoucherProviderChosen,
    VouchersAssigned,
)
from gateway.asyncapi import document

FORBIDDEN_FIELDS = {"henkilotunnus", "hetu", "person_key", "code", "voucher_code",
                    "holder_business_id", "comment", "evidence", "name"}


def _voucher_fields() -> dict[str, object]:
    return dict(voucher_id="v1", version=2, state="chosen", budget_id="b1",
                region="pirkanmaa", service_type="job-search-coaching",
                holder_kind=HolderKind.person, home_municipality="837", languages=["fi"],
                remote_suits=True, profile=Profile(), value_cents=150_000,
                valid_until=date(2026, 12, 31), choice_deadline=date(2026, 3, 31),
                provider_id="p1", offering_id="o1")


def test_subjects_are_in_the_voucher_stream() -> None:
    prefix = STREAMS["VOUCHER"].removesuffix(">")
    for cls in VOUCHER_EVENTS:
        assert cls.subject().startswith(prefix + "v1.voucher.")
    assert VoucherProviderChosen.subject() == "seteli.voucher.v1.voucher.provider_chosen"


def test_no_event_carries_an_identity_code_or_free_text() -> None:
    schemas = document()["components"]["schemas"]
    events = [name for name, cls in inspect.getmembers(contracts.voucher, inspect.isclass)
              if issubclass(cls, BaseModel) and cls.__module__ == "contracts.voucher"
              and name in schemas]
    assert len(events) >= 20
    for name in events:
        fields = set(schemas[name].get("properties", {}))
        assert not fields & FORBIDDEN_FIELDS, (name, fields & FORBIDDEN_FIELDS)


def test_round_trip_and_unknown_fields_ignored() -> None:
    event = VoucherProviderChosen(**_voucher_fields(), chosen_by=Chooser.holder)  # type: ignore[arg-type]
    env = Envelope.model_validate_json(event.envelope(resource="v1").model_dump_json())
    data = {**env.data, "added_later": True}
    assert VoucherProviderChosen.model_validate(data) == event
    assert env.data["profile"] == {"unemployment": "unknown", "education": "unknown",
                                   "earlier_services": "unknown"}


def test_vouchers_assigned_is_a_bounded_list_in_the_voucher_stream() -> None:
    assert VouchersAssigned.subject() == "seteli.voucher.v1.voucher.vouchers_assigned"
    entry = AssignedChoice(voucher_id="v1", version=3, service_type="job-search-coaching",
                           provider_id="p2", offering_id="o2", previous_provider_id="p1",
                           previous_offering_id="o1")
    event = VouchersAssigned(region="pirkanmaa", choices=[entry])
    env = Envelope.model_validate_json(event.envelope(resource="pirkanmaa").model_dump_json())
    assert VouchersAssigned.model_validate(env.data) == event
    assert VouchersAssigned.model_validate(env.data | {"added_later": 1}) == event
    for wrong in ([], [entry] * (ASSIGNED_PER_EVENT + 1)):
        with pytest.raises(ValueError):
            VouchersAssigned(region="pirkanmaa", choices=wrong)
    assert len(VouchersAssigned(region="pirkanmaa",
                                choices=[entry] * ASSIGNED_PER_EVENT).choices) == 500
