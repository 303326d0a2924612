"""Default assignment: vouchers past their choice deadline get one of their top-K candidate
offerings, under the offerings' open places and a cap on any one provider's share of the run.

The objective is lexicographic: as many vouchers placed as possible, then the greatest total
score. It is a min-cost max-flow (OR-Tools ``SimpleMinCostFlow.solve_max_flow_with_min_cost``)
source → voucher class → offering → provider → sink, where a *class* is the set of vouchers
with the same candidate list and scores (vouchers of one municipality, languages and remote
preference usually share one): merging them changes neither the optimum nor the objective, and
makes the graph a few arcs per class instead of K per voucher. Arc and member order are
shuffled by the seed, so equal-scored candidates rotate between runs and a run is reproduced
exactly by its seed. Overrides are the caller's: a voucher marked ``fixed`` keeps its offering
and uses its place and its provider's share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from services.matching.domain.types import Ranked

IntArray = npt.NDArray[np.int64] | npt.NDArray[np.int32] | npt.NDArray[np.int16]
I64 = npt.NDArray[np.int64]


class Status(IntEnum):
    """What happened to one voucher in a run (an explanation's code)."""

    first_candidate = 0
    first_was_full = 1  # placed lower: the 1st candidate's places were all taken
    first_provider_capped = 2  # placed lower: the 1st candidate's provider reached its share
    equal_score = 3  # placed lower at the same score as the 1st (rotation among equals)
    fixed = 4  # an administrator's override, kept as it was
    no_candidates = 5
    all_full = 6  # unplaced: every candidate's places were taken
    providers_capped = 7  # unplaced: candidates with places left were at providers at their share


@dataclass(frozen=True)
class AssignmentInput:
    """One run's inputs, by index. ``candidates[v, k]`` is voucher v's k-th candidate offering
    (best first; −1 pads a short list), ``scores[v, k]`` its score points. ``capacities[o]``
    is offering o's open places, ``offering_provider[o]`` its provider's index. No provider
    gets more than ``ceil(share_cap × vouchers)`` of the run (fixed vouchers included)."""

    candidates: IntArray  # (V, K)
    scores: IntArray  # (V, K)
    capacities: IntArray  # (O,)
    offering_provider: IntArray  # (O,)
    share_cap: float
    seed: int
    fixed: IntArray | None = None  # (V,) offering index set by an override, −1 = free

    @property
    def provider_cap(self) -> int:
        v = int(self.candidates.shape[0])
        return max(1, int(np.ceil(self.share_cap * v - 1e-9)))


@dataclass(frozen=True)
class AssignmentResult:
    offering: I64  # (V,) offering index or −1
    rank: I64  # (V,) 0-based candidate rank of the offering, −1 if none or not a candidate
    status: I64  # (V,) Status codes
    objective: int  # total score of the vouchers placed by the run (fixed ones not counted)
    placed: int  # vouchers placed by the run (fixed ones not counted)
    classes: int  # voucher classes the graph was built on
    seed: int


_CHUNK = 32_768  # rows hashed at a time: no whole-matrix temporaries
TIE_RANGE = 1024  # the seeded tie-break's values per arc


def candidate_arrays(
    class_of: npt.ArrayLike,
    rankings: Sequence[Sequence[Ranked]],
    offering_index: Mapping[str, int],
    k: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """(candidates, scores) for ``AssignmentInput`` from one ranking per class of vouchers
    that rank alike: ``class_of[v]`` is voucher v's class, ``rankings[c]`` class c's ranked
    offerings (best first; the first ``k`` are taken), ``offering_index`` each offering's
    index. Built per class, then spread to the vouchers in one step."""
    n_c = len(rankings)
    cand = np.full((n_c, k), -1, dtype=np.int32)
    scores = np.zeros((n_c, k), dtype=np.int32)
    for c, ranked in enumerate(rankings):
        top = ranked[:k]
        cand[c, : len(top)] = [offering_index[r.offering_id] for r in top]
        scores[c, : len(top)] = [r.score for r in top]
    of = np.asarray(class_of, dtype=np.int64)
    return cand[of], scores[of]


def _classes(cand: IntArray, scores: IntArray) -> tuple[I64, I64]:
    """(class of each row, first row of each class) for rows of equal candidates and scores."""
    rng = np.random.default_rng(0x5E7E11)
    n, k = cand.shape
    r1 = rng.integers(1, 2**63, size=k, dtype=np.uint64) | np.uint64(1)
    r2 = rng.integers(1, 2**63, size=k, dtype=np.uint64) | np.uint64(1)
    h = np.empty(n, dtype=np.uint64)
    for a in range(0, n, _CHUNK):
        c = cand[a : a + _CHUNK].astype(np.uint64)
        sc = scores[a : a + _CHUNK].astype(np.uint64)
        h[a : a + _CHUNK] = (c * r1).sum(axis=1, dtype=np.uint64) ^ (sc * r2).sum(
            axis=1, dtype=np.uint64
        )
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    rep = first[inverse]
    same = all(
        np.array_equal(cand[a : a + _CHUNK], cand[rep[a : a + _CHUNK]])
        and np.array_equal(scores[a : a + _CHUNK], scores[rep[a : a + _CHUNK]])
        for a in range(0, n, _CHUNK)
    )
    if not same:  # a hash collision: group by the rows themselves
        both = np.concatenate([cand, scores], axis=1)
        _, first, inverse = np.unique(both, axis=0, return_index=True, return_inverse=True)
    return inverse.astype(np.int64).ravel(), first.astype(np.int64)


def _int_matrix(a: IntArray) -> npt.NDArray[Any]:
    got = np.asarray(a)
    if got.ndim != 2 or not np.issubdtype(got.dtype, np.integer):
        raise ValueError("candidates and scores are 2-d integer arrays")
    return got


def _checked(
    inp: AssignmentInput,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], I64, I64, I64]:
    """The inputs as arrays, or ValueError naming what does not fit."""
    cand = _int_matrix(inp.candidates)  # kept in the caller's integer type: no copies
    scores = _int_matrix(inp.scores)
    caps = np.asarray(inp.capacities, dtype=np.int64).ravel()
    prov = np.asarray(inp.offering_provider, dtype=np.int64).ravel()
    n_v, n_o = cand.shape[0], caps.size
    fixed = (
        np.full(n_v, -1, dtype=np.int64)
        if inp.fixed is None
        else np.asarray(inp.fixed, dtype=np.int64).ravel()
    )
    problems = {
        "scores: not the shape of candidates": scores.shape != cand.shape,
        "offering_provider: not one per offering": prov.size != n_o,
        "offering_provider: a negative index": bool(n_o and prov.min() < 0),
        "candidates: an index outside the offerings": bool(
            cand.size and (cand.max() >= n_o or cand.min() < -1)
        ),
        "fixed: not one per voucher": fixed.size != n_v,
        "fixed: an index outside the offerings": bool(fixed.size and fixed.max() >= n_o),
        "share_cap: not in (0, 1]": not 0 < inp.share_cap <= 1,
    }
    wrong = [name for name, bad in problems.items() if bad]
    if wrong:
        raise ValueError("; ".join(wrong))
    return cand, scores, np.maximum(caps, 0), prov, fixed  # overbooked: no place left


def solve(inp: AssignmentInput) -> AssignmentResult:
    """The optimal assignment (module docstring); ValueError for inputs that do not fit."""
    cand, scores, caps, prov, fixed = _checked(inp)
    n_v = cand.shape[0]
    n_o = caps.shape[0]
    n_p = int(prov.max()) + 1 if n_o else 0
    is_fixed = fixed >= 0
    used_o = np.bincount(fixed[is_fixed], minlength=n_o).astype(np.int64)
    used_p = np.bincount(prov[fixed[is_fixed]], minlength=n_p).astype(np.int64)
    room_o = np.maximum(caps - used_o, 0)
    room_p = np.maximum(inp.provider_cap - used_p, 0)

    free = np.flatnonzero(~is_fixed)
    offering = fixed.copy()
    rng = np.random.default_rng(inp.seed)
    n_c = 0
    if free.size and n_o:
        all_free = free.size == n_v
        f_cand = cand if all_free else cand[free]
        f_scores = scores if all_free else scores[free]
        cls, first = _classes(f_cand, f_scores)
        n_c = first.size
        count = np.bincount(cls, minlength=n_c).astype(np.int64)
        c_cand = f_cand[first]  # the classes' rows, in the caller's integer type
        c_score = f_scores[first]
        n_k = c_cand.shape[1]
        # the arcs class → offering in a seeded order (shuffled in place: no second copy)
        flat = np.flatnonzero(c_cand.ravel() >= 0)
        rng.shuffle(flat)
        c_idx = (flat // n_k).astype(np.int32)
        k_idx = (flat % n_k).astype(np.int32)
        o_idx = c_cand.ravel()[flat].astype(np.int32)
        # cost −(score × M + r), r a seeded draw in [0, TIE_RANGE) per arc, M > every r the
        # run can add up: the total score is maximised first, exactly; r only picks among the
        # optima, so equal-scored candidates rotate with the seed
        scale = TIE_RANGE * (free.size + 1)
        costs = c_score.ravel()[flat].astype(np.int64) * -scale
        costs -= rng.integers(0, TIE_RANGE, size=costs.size, dtype=np.int64)
        del flat
        # nodes: 0 source, 1 sink, classes, offerings (in a seeded order), providers
        o_node = (2 + n_c + rng.permutation(n_o)).astype(np.int32)
        p_node = (2 + n_c + n_o + np.arange(n_p)).astype(np.int32)
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(
            np.zeros(n_c, np.int32), (2 + np.arange(n_c)).astype(np.int32), count,
            np.zeros(n_c, np.int64),
        )  # fmt: skip
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(
            c_idx + np.int32(2), o_node[o_idx], count[c_idx], costs
        )
        del costs
        smcf.add_arcs_with_capacity_and_unit_cost(
            o_node, p_node[prov], room_o, np.zeros(n_o, np.int64)
        )
        smcf.add_arcs_with_capacity_and_unit_cost(
            p_node, np.ones(n_p, np.int32), room_p, np.zeros(n_p, np.int64)
        )
        smcf.set_nodes_supplies(np.array([0, 1], np.int32), np.array([free.size, -free.size]))
        status = smcf.solve_max_flow_with_min_cost()
        if status != smcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow ended {status}")
        flow = smcf.flows(arcs)
        del smcf, arcs
        offering[free] = _spread(cls, count, c_idx, k_idx, o_idx, flow, rng)

    return _result(inp, cand, scores, caps, prov, offering, is_fixed, n_c)


def _spread(
    cls: I64,
    count: I64,
    c_idx: npt.NDArray[np.int32],
    k_idx: npt.NDArray[np.int32],
    o_idx: npt.NDArray[np.int32],
    flow: npt.NDArray[Any],
    rng: np.random.Generator,
) -> I64:
    """Hand each class's flows to its members: members in a seeded order, best rank first."""
    n_c = count.size
    members = np.lexsort((rng.random(cls.size), cls))  # rows grouped by class, shuffled inside
    class_start = np.concatenate([[0], np.cumsum(count)[:-1]])
    used = flow > 0
    c_u, k_u = c_idx[used].astype(np.int64), k_idx[used]
    o_u, f_u = o_idx[used].astype(np.int64), flow[used].astype(np.int64)
    order = np.lexsort((k_u, c_u))
    c_u, o_u, f_u = c_u[order], o_u[order], f_u[order]
    unit_class = np.repeat(c_u, f_u)
    unit_offering = np.repeat(o_u, f_u)
    placed_per_class = np.bincount(c_u, weights=f_u, minlength=n_c).astype(np.int64)
    unit_first = np.concatenate([[0], np.cumsum(placed_per_class)[:-1]])
    within = np.arange(unit_class.size) - unit_first[unit_class]
    out = np.full(cls.size, -1, dtype=np.int64)
    out[members[class_start[unit_class] + within]] = unit_offering
    return out


def greedy(inp: AssignmentInput) -> AssignmentResult:
    """The baseline: vouchers in a seeded random order, each takes its best candidate that
    still has a place and whose provider is under its share."""
    cand, scores, caps, prov, fixed = _checked(inp)
    is_fixed = fixed >= 0
    room_o = (caps - np.bincount(fixed[is_fixed], minlength=caps.size)).tolist()
    n_p = int(prov.max()) + 1 if prov.size else 0
    room_p = (inp.provider_cap - np.bincount(prov[fixed[is_fixed]], minlength=n_p)).tolist()
    prov_l = prov.tolist()
    offering = fixed.copy()
    for v in np.random.default_rng(inp.seed).permutation(np.flatnonzero(~is_fixed)).tolist():
        for o in cand[v].tolist():
            if o >= 0 and room_o[o] > 0 and room_p[prov_l[o]] > 0:
                room_o[o] -= 1
                room_p[prov_l[o]] -= 1
                offering[v] = o
                break
    return _result(inp, cand, scores, caps, prov, offering, is_fixed, cand.shape[0])


def _result(
    inp: AssignmentInput,
    cand: IntArray,
    scores: IntArray,
    caps: I64,
    prov: I64,
    offering: I64,
    is_fixed: npt.NDArray[np.bool_],
    n_classes: int,
) -> AssignmentResult:
    n_v = cand.shape[0]
    placed = offering >= 0
    rank = np.full(n_v, -1, dtype=np.int64)
    placed_rows = np.flatnonzero(placed)
    for a in range(0, placed_rows.size, _CHUNK):
        rows = placed_rows[a : a + _CHUNK]
        hit = cand[rows] == offering[rows, None]
        rank[rows] = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    got = ~is_fixed & placed
    got_rows = np.flatnonzero(got)
    objective = int(scores[got_rows, rank[got_rows]].astype(np.int64).sum())
    n_o = caps.size
    n_p = int(prov.max()) + 1 if n_o else 0
    full_o = np.bincount(offering[placed], minlength=n_o) >= caps
    capped_p = np.bincount(prov[offering[placed]], minlength=n_p) >= inp.provider_cap

    def blocked(c: IntArray) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """(full, at a capped provider but not full) for candidate offerings; −1 is neither."""
        valid = c >= 0
        safe = np.where(valid, c, 0)
        full = full_o[safe] & valid
        return full, capped_p[prov[safe]] & valid & ~full

    status = np.full(n_v, Status.first_candidate, dtype=np.int64)
    no = np.zeros(n_v, dtype=bool)
    full0, capped0 = blocked(cand[:, 0]) if n_o and cand.shape[1] else (no, no)
    lower = got & (rank > 0)
    status[lower & full0] = Status.first_was_full
    status[lower & capped0] = Status.first_provider_capped
    status[lower & ~full0 & ~capped0] = Status.equal_score
    status[is_fixed] = Status.fixed
    rows = np.flatnonzero(~placed)
    if rows.size:
        c = cand[rows]
        has = (c >= 0).any(axis=1)
        full, _ = blocked(c) if n_o else (np.zeros(c.shape, bool), None)
        all_full = (full | (c < 0)).all(axis=1)
        status[rows] = np.where(
            ~has, Status.no_candidates, np.where(all_full, Status.all_full, Status.providers_capped)
        )
    return AssignmentResult(
        offering=offering,
        rank=rank,
        status=status,
        objective=objective,
        placed=int(got.sum()),
        classes=n_classes,
        seed=inp.seed,
    )


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 22nd …"""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def explain(result: AssignmentResult, v: int) -> str:
    """One voucher's outcome in words, e.g. "your 2nd candidate; the 1st was full"."""
    s = Status(int(result.status[v]))
    nth = ordinal(int(result.rank[v]) + 1)
    return {
        Status.first_candidate: "your 1st candidate",
        Status.first_was_full: f"your {nth} candidate; the 1st was full",
        Status.first_provider_capped: (
            f"your {nth} candidate; the 1st one's provider had reached its share of this run"
        ),
        Status.equal_score: f"your {nth} candidate, scored equal to the 1st",
        Status.fixed: "set by an administrator",
        Status.no_candidates: "not assigned: no eligible offering",
        Status.all_full: "not assigned: every candidate was full",
        Status.providers_capped: (
            "not assigned: candidates with places left were at providers at their share"
        ),
    }[s]
