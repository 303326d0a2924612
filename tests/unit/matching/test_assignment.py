"""Default assignment: optimal against brute force on small runs, limits kept, the same seed
gives the same assignment, overrides stay, explanations and the run summary."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.assignment import (
    AssignmentInput,
    Status,
    explain,
    greedy,
    solve,
)
from services.matching.domain.summary import summarise


def _fixed(inp: AssignmentInput) -> np.ndarray:
    n_v = len(inp.candidates)
    return np.full(n_v, -1) if inp.fixed is None else np.asarray(inp.fixed)


def _room(inp: AssignmentInput) -> tuple[np.ndarray, np.ndarray]:
    """Places and provider shares left for the free vouchers once the fixed ones are in."""
    fixed = _fixed(inp)
    prov = np.asarray(inp.offering_provider)
    n_o = len(inp.capacities)
    kept = fixed[fixed >= 0]
    room_o = np.maximum(np.asarray(inp.capacities) - np.bincount(kept, minlength=n_o), 0)
    room_p = np.maximum(inp.provider_cap - np.bincount(prov[kept], minlength=prov.max() + 1), 0)
    return room_o, room_p


def brute_force(inp: AssignmentInput) -> tuple[int, int]:
    """(most free vouchers placed, best total score with that many) by trying every choice."""
    cand = np.asarray(inp.candidates)
    scores = np.asarray(inp.scores)
    fixed = _fixed(inp)
    room_o, room_p = _room(inp)
    best = (-1, 0)
    options = [
        [-1] + ([] if fixed[v] >= 0 else [k for k in range(cand.shape[1]) if cand[v, k] >= 0])
        for v in range(len(cand))
    ]
    for pick in itertools.product(*options):
        used_o: dict[int, int] = {}
        used_p: dict[int, int] = {}
        placed = total = 0
        for v, k in enumerate(pick):
            if k < 0:
                continue
            o = int(cand[v, k])
            p = int(inp.offering_provider[o])
            used_o[o] = used_o.get(o, 0) + 1
            used_p[p] = used_p.get(p, 0) + 1
            placed += 1
            total += int(scores[v, k])
        ok = all(n <= room_o[o] for o, n in used_o.items())
        ok = ok and all(n <= room_p[p] for p, n in used_p.items())
        if ok and (placed, total) > best:
            best = (placed, total)
    return best


@st.composite
def small_runs(draw: st.DrawFn) -> AssignmentInput:
    n_v = draw(st.integers(1, 6))
    n_o = draw(st.integers(1, 4))
    k = draw(st.integers(1, min(3, n_o)))
    rows = []
    for _ in range(n_v):
        length = draw(st.integers(0, k))
        picked = draw(st.permutations(range(n_o)))[:length]
        rows.append(list(picked) + [-1] * (k - length))
    # a few identical rows, so that classes of several vouchers are tried too
    if n_v > 2 and draw(st.booleans()):
        rows[1] = rows[0]
    scores = [sorted(draw(st.lists(st.integers(-50, 50), min_size=k, max_size=k)), reverse=True)]
    scores = (
        scores * n_v
        if draw(st.booleans())
        else [
            sorted(draw(st.lists(st.integers(-50, 50), min_size=k, max_size=k)), reverse=True)
            for _ in range(n_v)
        ]
    )
    fixed = None
    if draw(st.booleans()):  # some vouchers kept where an administrator put them
        fixed = np.array(
            [draw(st.sampled_from([-1, -1, *range(n_o)])) for _ in range(n_v)], dtype=np.int64
        )
    return AssignmentInput(
        candidates=np.array(rows, dtype=np.int32),
        scores=np.array(scores, dtype=np.int32),
        capacities=np.array(draw(st.lists(st.integers(0, 3), min_size=n_o, max_size=n_o))),
        offering_provider=np.array(draw(st.lists(st.integers(0, 1), min_size=n_o, max_size=n_o))),
        share_cap=draw(st.sampled_from([0.34, 0.5, 1.0])),
        seed=draw(st.integers(0, 2**31)),
        fixed=fixed,
    )


def check_limits(inp: AssignmentInput, offering: np.ndarray) -> None:
    """Fixed vouchers kept; the free ones on their candidates, within what is left."""
    fixed = _fixed(inp)
    assert (offering[fixed >= 0] == fixed[fixed >= 0]).all()
    room_o, room_p = _room(inp)
    free = offering[(fixed < 0) & (offering >= 0)]
    assert (np.bincount(free, minlength=len(room_o)) <= room_o).all()
    per_provider = np.bincount(np.asarray(inp.offering_provider)[free], minlength=len(room_p))
    assert (per_provider <= room_p).all()
    for v, o in enumerate(offering):
        if o >= 0 and fixed[v] < 0:
            assert o in inp.candidates[v]


@settings(max_examples=150, deadline=None)
@given(small_runs())
def test_solve_reaches_the_brute_force_optimum_within_the_limits(inp: AssignmentInput) -> None:
    result = solve(inp)
    check_limits(inp, result.offering)
    assert (result.placed, result.objective) == brute_force(inp)
    base = greedy(inp)
    check_limits(inp, base.offering)
    assert (base.placed, base.objective) <= (result.placed, result.objective)


def random_run(seed: int, n_v: int = 3_000, n_o: int = 60, k: int = 8) -> AssignmentInput:
    rng = np.random.default_rng(seed)
    profiles = rng.integers(0, 40, n_v)  # 40 kinds of holder, as classes
    lists = np.stack([rng.choice(n_o, k, replace=False) for _ in range(40)])
    scores = -np.sort(-rng.integers(0, 5, (40, k)), axis=1)  # many equal scores
    return AssignmentInput(
        candidates=lists[profiles],
        scores=scores[profiles],
        capacities=rng.integers(10, 60, n_o),
        offering_provider=rng.integers(0, 12, n_o),
        share_cap=0.1,
        seed=seed,
    )


def test_the_same_seed_gives_the_same_assignment_and_another_rotates_equals() -> None:
    inp = random_run(5)
    a, b = solve(inp), solve(inp)
    assert np.array_equal(a.offering, b.offering)
    assert a.classes == 40
    other = solve(AssignmentInput(**{**inp.__dict__, "seed": 6}))
    assert other.objective == a.objective and other.placed == a.placed
    assert not np.array_equal(other.offering, a.offering)
    check_limits(inp, a.offering)


def test_an_override_keeps_its_offering_and_uses_its_place() -> None:
    inp = random_run(8)
    first = solve(inp)
    fixed = np.full(len(inp.candidates), -1)
    moved = np.flatnonzero(first.offering >= 0)[:30]
    # an administrator puts 30 vouchers on offering 0, whatever their candidates
    fixed[moved] = 0
    again = solve(AssignmentInput(**{**inp.__dict__, "fixed": fixed}))
    assert (again.offering[moved] == 0).all()
    assert (again.status[moved] == Status.fixed).all()
    assert all(explain(again, int(v)) == "set by an administrator" for v in moved)
    free = again.offering[fixed < 0]
    assert np.sum(free == 0) <= max(0, int(inp.capacities[0]) - 30)
    assert again.placed <= first.placed  # fixed vouchers are not counted as placed by the run


def test_explanations_tell_the_rank_and_why_the_first_was_not_given() -> None:
    # three vouchers want offering 0 (one place) first, offering 1 second
    inp = AssignmentInput(
        candidates=np.array([[0, 1], [0, 1], [0, 1], [-1, -1]]),
        scores=np.array([[10, 5], [10, 5], [10, 5], [0, 0]]),
        capacities=np.array([1, 1]),
        offering_provider=np.array([0, 1]),
        share_cap=1.0,
        seed=1,
    )
    r = solve(inp)
    words = sorted(explain(r, v) for v in range(4))
    assert words == [
        "not assigned: every candidate was full",
        "not assigned: no eligible offering",
        "your 1st candidate",
        "your 2nd candidate; the 1st was full",
    ]
    capped = AssignmentInput(
        **{
            **inp.__dict__,
            "capacities": np.array([3, 3]),
            "offering_provider": np.array([0, 0]),
            "share_cap": 0.5,
        }
    )
    r = solve(capped)
    assert r.placed == 2  # provider 0 may take ceil(0.5 × 4) = 2
    assert sorted(int(s) for s in r.status) == [
        Status.first_candidate,
        Status.first_candidate,
        Status.no_candidates,
        Status.providers_capped,
    ]


def test_the_summary_counts_shares_reasons_and_disparity() -> None:
    inp = random_run(3)
    r = solve(inp)
    rng = np.random.default_rng(0)
    groups = {
        "municipality": rng.choice(["091", "049"], len(r.offering)),
        "holder_kind": ["person"] * len(r.offering),
    }
    s = summarise(r, groups)
    assert s.vouchers == len(inp.candidates)
    assert s.placed == int((r.offering >= 0).sum())
    assert s.placed_share == pytest.approx(s.placed / s.vouchers, abs=1e-4)
    assert sum(s.unplaced_by_reason.values()) == s.vouchers - s.placed
    first = int((r.status == Status.first_candidate).sum())
    assert s.first_choice_share == pytest.approx(first / s.placed, abs=1e-4)
    muni = {g.label: g for g in s.disparity["municipality"]}
    assert sum(g.vouchers for g in muni.values()) == s.vouchers
    assert s.widest_gap["municipality"] == pytest.approx(
        abs(muni["091"].placed_share - muni["049"].placed_share), abs=1e-4
    )
    assert s.widest_gap["holder_kind"] == 0.0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"scores": np.array([[1, 2, 3]])}, "scores"),
        ({"candidates": np.array([[0, 5]])}, "candidates"),
        ({"candidates": np.array([[0, -2]])}, "candidates"),
        ({"offering_provider": np.array([0])}, "offering_provider"),
        ({"fixed": np.array([0, 0])}, "fixed"),
        ({"fixed": np.array([2])}, "fixed"),
        ({"share_cap": 0.0}, "share_cap"),
        ({"share_cap": 1.5}, "share_cap"),
    ],
)
def test_inputs_that_do_not_fit_are_refused_by_name(change: dict[str, object], named: str) -> None:
    base = AssignmentInput(
        candidates=np.array([[0, 1]]),
        scores=np.array([[2, 1]]),
        capacities=np.array([1, 1]),
        offering_provider=np.array([0, 1]),
        share_cap=1.0,
        seed=0,
    )
    bad = AssignmentInput(**{**base.__dict__, **change})
    for run in (solve, greedy):
        with pytest.raises(ValueError, match=named):
            run(bad)


def test_empty_lists_and_no_offerings_leave_every_voucher_unplaced() -> None:
    for cand, caps in (
        (np.zeros((3, 0), int), np.array([2])),
        (np.full((3, 2), -1), np.array([], int)),
    ):
        inp = AssignmentInput(
            candidates=cand, scores=np.zeros(cand.shape, int), capacities=caps,
            offering_provider=np.zeros(caps.size, int), share_cap=1.0, seed=0,
        )  # fmt: skip
        r = solve(inp)
        assert (r.offering == -1).all() and r.placed == 0 and r.objective == 0
        assert (r.status == Status.no_candidates).all()


def test_ordinals_read_as_english() -> None:
    from services.matching.domain.assignment import ordinal

    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 50, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "50th",
        "101st", "111th",
    ]  # fmt: skip


def test_equal_candidates_rotate_evenly_over_seeds() -> None:
    """Ten alike vouchers, three equal offerings with room for all: over 1 200 seeds each
    offering takes them 400 ± 82 times (±5 binomial standard deviations)."""
    taken: Counter[int] = Counter()
    for seed in range(1_200):
        inp = AssignmentInput(
            candidates=np.array([[0, 1, 2]] * 10),
            scores=np.array([[5, 5, 5]] * 10),
            capacities=np.array([10, 10, 10]),
            offering_provider=np.array([0, 1, 2]),
            share_cap=1.0,
            seed=seed,
        )
        r = solve(inp)
        assert r.placed == 10 and r.objective == 50
        taken[int(np.bincount(r.offering, minlength=3).argmax())] += 1
    assert all(abs(taken[o] - 400) <= 82 for o in range(3)), taken


def test_candidate_arrays_spread_each_class_ranking_to_its_vouchers() -> None:
    from services.matching.domain.assignment import candidate_arrays
    from services.matching.domain.types import Ranked

    def ranked(*pairs: tuple[str, int]) -> tuple[Ranked, ...]:
        return tuple(Ranked(o, f"p-{o}", s, ()) for o, s in pairs)

    rankings = [ranked(("b", 9), ("a", 7), ("c", 1)), ranked(), ranked(("c", 4))]
    cand, scores = candidate_arrays([2, 0, 0, 1], rankings, {"a": 0, "b": 1, "c": 2}, k=2)
    assert cand.tolist() == [[2, -1], [1, 0], [1, 0], [-1, -1]]
    assert scores.tolist() == [[4, 0], [9, 7], [9, 7], [0, 0]]
