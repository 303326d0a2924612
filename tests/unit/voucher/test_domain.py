"""The voucher's pure rules: lifecycle and money."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.voucher.domain.lifecycle import (
    FINAL,
    Action,
    IllegalTransition,
    VoucherState,
    allowed,
    transition,
)
from services.voucher.domain.money import (
    InvalidScheme,
    Milestone,
    can_pay,
    co_payment_cents,
    milestone_amounts,
    split,
    validate_scheme,
)

DEFAULT = [Milestone("start", 3000), Milestone("completion", 4000), Milestone("outcome", 3000)]


def test_happy_path_and_change_of_provider() -> None:
    s = VoucherState.issued
    for action in (Action.choose, Action.choose, Action.release, Action.choose, Action.start,
                   Action.complete):
        s = transition(s, action)
    assert s is VoucherState.completed


@pytest.mark.parametrize(("state", "action"), list(itertools.product(sorted(FINAL), Action)))
def test_final_states_accept_nothing(state: VoucherState, action: Action) -> None:
    with pytest.raises(IllegalTransition) as err:
        transition(state, action)
    assert state.value in str(err.value)


def test_started_voucher_changes_provider_only_by_transfer() -> None:
    """After the start the holder cannot choose again and the voucher cannot expire; a region
    admin may transfer it to another provider or cancel it."""
    assert set(allowed(VoucherState.started)) == {Action.complete, Action.cancel,
                                                  Action.transfer}
    for action in (Action.choose, Action.release, Action.expire):
        with pytest.raises(IllegalTransition):
            transition(VoucherState.started, action)


def test_amounts_sum_to_value_for_awkward_values() -> None:
    thirds = [Milestone("a", 3333), Milestone("b", 3333), Milestone("c", 3334)]
    for value in (0, 1, 2, 99, 100_001, 123_457, 999_999_999):
        for scheme in (DEFAULT, thirds):
            amounts = milestone_amounts(value, scheme)
            assert sum(amounts.values()) == value
            assert all(a >= 0 for a in amounts.values())


def test_scheme_validation() -> None:
    validate_scheme(DEFAULT)
    for bad in ([], [Milestone("a", 5000)], [Milestone("a", 5000), Milestone("a", 5000)],
                [Milestone("a", 12000), Milestone("b", -2000)]):
        with pytest.raises(InvalidScheme):
            validate_scheme(bad)


def test_paid_never_exceeds_value_and_co_payment() -> None:
    assert can_pay(1000, 700, 300)
    assert not can_pay(1000, 701, 300)
    assert not can_pay(1000, 0, 0)
    assert co_payment_cents(120_000, 100_000) == 20_000
    assert co_payment_cents(80_000, 100_000) == 0


@given(st.integers(0, 10**9),
       st.dictionaries(st.sampled_from(["region", "837", "536", "604"]), st.integers(0, 10**8),
                       min_size=1))
def test_split_is_exact_and_never_exceeds_what_a_funder_holds(
        amount: int, weights: dict[str, int]) -> None:
    total = sum(weights.values())
    if total == 0:
        return
    amount = amount % (total + 1)
    parts = split(amount, weights)
    assert sum(parts.values()) == amount
    for k, w in weights.items():
        exact = amount * w / total
        assert abs(parts[k] - exact) < 1 and parts[k] <= w


def test_split_ties_and_refusals() -> None:
    assert split(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split(0, {"a": 0}) == {"a": 0}
    with pytest.raises(ValueError):
        split(1, {"a": 0})
    with pytest.raises(ValueError):
        split(-1, {"a": 1})
