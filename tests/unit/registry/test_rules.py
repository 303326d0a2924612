"""Pure registry rules: the accreditation state machine, the Y-tunnus check, languages, dates,
entity tags and the request schemas' own checks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from babel import Locale
from pydantic import ValidationError

from kit.versioning import etag, if_match_satisfied
from services.registry import demo
from services.registry.domain.accreditation import (
    ADMIN_ACTIONS,
    EVENT_OF,
    TRANSITIONS,
    AccreditationState,
    Action,
    IllegalTransition,
    choosable,
    transition,
)
from services.registry.domain.business_id import (
    InvalidBusinessId,
    business_id_of,
    normalise_business_id,
)
from services.registry.domain.calendar import has_expired, local_date
from services.registry.domain.languages import ISO_639_1
from services.registry.domain.places import MUNICIPALITIES, REGIONS, SERVICE_TYPES
from services.registry.schemas import DecisionIn, OfferingIn, ServiceTypeIn

ALL_PAIRS = [(s, d) for s in AccreditationState for d in Action]


@pytest.mark.parametrize(("state", "decision"), [p for p in ALL_PAIRS if p not in TRANSITIONS])
def test_every_unlisted_transition_is_refused(state: AccreditationState,
                                              decision: Action) -> None:
    with pytest.raises(IllegalTransition) as err:
        transition(state, decision)
    assert state.value in str(err.value)  # the current state is named


def test_the_lifecycle_of_the_issue() -> None:
    s = AccreditationState.applied
    for d, expected in [(Action.approve, "approved"), (Action.suspend, "suspended"),
                        (Action.reinstate, "approved"), (Action.suspend, "suspended"),
                        (Action.revoke, "revoked")]:
        s = transition(s, d)
        assert s.value == expected
    assert transition(AccreditationState.applied, Action.reject).value == "rejected"
    assert transition(AccreditationState.approved, Action.expire).value == "expired"
    assert transition(AccreditationState.suspended, Action.expire).value == "expired"


def test_revoked_is_final_and_only_approved_is_choosable() -> None:
    assert not [d for d in Action if (AccreditationState.revoked, d) in TRANSITIONS]
    assert [s for s in AccreditationState if choosable(s)] == [AccreditationState.approved]
    assert Action.expire not in ADMIN_ACTIONS and Action.reapply not in ADMIN_ACTIONS
    assert set(EVENT_OF) == set(Action)


def stated_check_digit(seven: str) -> int | None:
    """The algorithm as the issue states it: weights 7,9,10,5,8,4,2; remainder 1 invalid."""
    rem = sum(int(d) * w for d, w in zip(seven, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return None if rem == 1 else (0 if rem == 0 else 11 - rem)


def test_business_id_check_agrees_with_the_stated_algorithm() -> None:
    rnd = random.Random(7)
    for n in [0, 1, 6, 9_999_999, *(rnd.randrange(10_000_000) for _ in range(3000))]:
        seven = f"{n:07d}"
        digit = stated_check_digit(seven)
        for candidate in range(10):
            ok = digit == candidate
            value = f"{seven}-{candidate}"
            if ok:
                assert normalise_business_id(value) == value
            else:
                with pytest.raises(InvalidBusinessId):
                    normalise_business_id(value)
        # the generator of demo data, tests and benchmarks follows the same algorithm
        made = business_id_of(n)
        assert made == (None if digit is None else f"{seven}-{digit}")


@pytest.mark.parametrize("good", ["2617416-4", "0737546-2", "1572860-0", " 2617416-4 "])
def test_valid_business_ids(good: str) -> None:
    assert normalise_business_id(good) == good.strip()


@pytest.mark.parametrize("bad", ["2617416-5", "0000006-0", "261741-4", "abcdefg-h", "",
                                 "26174164-4", "2617416_4"])
def test_invalid_business_ids(bad: str) -> None:
    with pytest.raises(InvalidBusinessId):
        normalise_business_id(bad)


def test_language_codes_are_iso_639_1() -> None:
    known = {str(code) for code in Locale("en").languages if len(str(code)) == 2}
    # Babel still knows "sh" (Serbo-Croatian), which ISO 639-1 has deprecated.
    assert known - {"sh"} == ISO_639_1
    assert {"fi", "sv", "en", "se", "ar", "so", "uk", "ru", "et", "fa"} <= ISO_639_1


def test_places_and_catalogue_seed() -> None:
    assert set(REGIONS) == {"pirkanmaa", "pohjois-pohjanmaa", "etela-pohjanmaa"}
    per_region: dict[str, int] = {}
    for code, (fi, _sv, region) in MUNICIPALITIES.items():
        assert len(code) == 3 and code.isdigit() and fi
        per_region[region] = per_region.get(region, 0) + 1
    assert per_region == {"pirkanmaa": 23, "pohjois-pohjanmaa": 30, "etela-pohjanmaa": 18}
    assert MUNICIPALITIES["837"][0] == "Tampere" and MUNICIPALITIES["564"][0] == "Oulu"
    for names, scheme in SERVICE_TYPES.values():
        assert set(names) == {"fi", "sv", "en"}
        assert sum(bp for _, bp in scheme) == 10_000


def test_finnish_dates() -> None:
    # 21:30 UTC on 30 June is already 1 July in Helsinki (UTC+3 in summer) …
    assert local_date(datetime(2026, 6, 30, 21, 30, tzinfo=UTC)) == date(2026, 7, 1)
    # … and 22:30 UTC on 31 December is 1 January (UTC+2 in winter).
    assert local_date(datetime(2026, 12, 31, 21, 59, tzinfo=UTC)) == date(2026, 12, 31)
    assert local_date(datetime(2026, 12, 31, 22, 0, tzinfo=UTC)) == date(2027, 1, 1)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 1, 1))
    assert not has_expired(date(2026, 5, 31), date(2026, 5, 31))  # valid through the day
    assert has_expired(date(2026, 5, 31), date(2026, 6, 1))
    assert not has_expired(None, date(2026, 6, 1))


@pytest.mark.parametrize(("header", "version", "ok"), [
    (None, 3, True), ("*", 3, True), ('"3"', 3, True), ("3", 3, True), ('W/"3"', 3, True),
    ('"1", "3"', 3, True), ('"2"', 3, False), ("", 3, False), ('"33"', 3, False),
    ('"3', 3, False), ("W/3x", 3, False),
])
def test_if_match(header: str | None, version: int, ok: bool) -> None:
    assert if_match_satisfied(header, version) is ok
    assert if_match_satisfied(etag(version), version)


def _offering(**over: Any) -> dict[str, Any]:
    return {"region": "pirkanmaa", "service_type": "career-guidance",
            "title": {"fi": "Uraohjaus"}, "description": {"fi": "Kuvaus"},
            "municipalities": ["837"], "languages": ["FI", "sv", "fi"],
            "unit_price_cents": 50_000, "capacity": 0,
            "next_start": (date.today() + timedelta(days=3)).isoformat(),
            "duration_days": 30} | over


def fields(exc: ValidationError) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in exc.errors()]


def test_offering_schema() -> None:
    o = OfferingIn.model_validate(_offering())
    assert o.languages == ["fi", "sv"]  # normalised, order kept, duplicates dropped
    assert OfferingIn.model_validate(_offering(municipalities=[], remote=True)).remote
    cases: list[tuple[dict[str, Any], str]] = [
        ({"municipalities": [], "remote": False}, "municipalities"),
        ({"unit_price_cents": 0}, "unit_price_cents"),
        ({"unit_price_cents": 10_000_001}, "unit_price_cents"),
        ({"capacity": -1}, "capacity"),
        ({"languages": ["xx"]}, "languages"),
        ({"title": {"sv": "Karriär"}}, "title.fi"),
        ({"title": {"fi": " "}}, "title.fi"),
        ({"next_start": "2001-01-01"}, "next_start"),
    ]
    for change, field in cases:
        with pytest.raises(ValidationError) as err:
            OfferingIn.model_validate(_offering(**change))
        assert field in fields(err.value), (change, fields(err.value))


def test_decision_schema() -> None:
    soon = (date.today() + timedelta(days=30)).isoformat()
    assert DecisionIn.model_validate({"decision": "approve", "reason": "ok, checked",
                                      "valid_until": soon}).valid_until
    assert DecisionIn.model_validate({"decision": "suspend", "reason": "complaints"})
    for body in ({"decision": "approve", "reason": "checked"},
                 {"decision": "renew", "reason": "checked", "valid_until": "2000-01-01"},
                 {"decision": "revoke", "reason": "fraud", "valid_until": soon}):
        with pytest.raises(ValidationError) as err:
            DecisionIn.model_validate(body)
        assert fields(err.value) == ["valid_until"], body


def test_payment_scheme_sums_to_one_hundred_percent() -> None:
    base = {"code": "digital-skills", "name": {"fi": "Digitaidot"}}
    ok = ServiceTypeIn.model_validate(base | {"payment_scheme": [
        {"code": "start", "share_bp": 3000}, {"code": "completion", "share_bp": 7000}]})
    assert [m.share_bp for m in ok.payment_scheme] == [3000, 7000]
    for scheme in ([{"code": "start", "share_bp": 3000}],
                   [{"code": "start", "share_bp": 5000}, {"code": "start", "share_bp": 5000}],
                   [{"code": "start", "share_bp": 0}, {"code": "end", "share_bp": 10_000}]):
        with pytest.raises(ValidationError):
            ServiceTypeIn.model_validate(base | {"payment_scheme": scheme})


def test_demo_data_is_valid() -> None:
    ids = [demo.business_id(spec["n"]) for spec in demo.PROVIDERS]
    assert len(set(ids)) == len(ids) == 12
    assert all(normalise_business_id(i) == i for i in ids)
    states = {spec["state"] for spec in demo.PROVIDERS}
    assert states == {"approved", "applied", "suspended", "revoked", "rejected"}
    for spec in demo.PROVIDERS:
        for _stype, munis, remote, langs, price, cap in spec["offerings"]:
            assert munis or remote
            assert all(lang in ISO_639_1 for lang in langs) and price > 0 and cap >= 0
            assert any(all(MUNICIPALITIES[m][2] == r for m in munis) for r in spec["regions"])
