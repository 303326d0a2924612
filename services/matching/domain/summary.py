"""A run's summary: how many were placed, how many got their first candidate, why the rest
were not, and the same shares by municipality, language and holder kind (disparity)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from services.matching.domain.assignment import AssignmentResult, Status

_UNPLACED = (Status.no_candidates, Status.all_full, Status.providers_capped)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    label: str
    vouchers: int
    placed_share: float
    first_choice_share: float  # of the group's placed vouchers
    mean_rank: float | None  # 1 = first candidate, over placed vouchers with a rank


@dataclass(frozen=True, slots=True)
class RunSummary:
    vouchers: int
    placed: int  # by the run or by an override
    placed_share: float
    first_choice_share: float  # of placed vouchers
    fixed: int
    unplaced_by_reason: dict[str, int]
    disparity: dict[str, tuple[GroupFigures, ...]]  # dimension -> figures per label
    widest_gap: dict[str, float]  # dimension -> max − min placed share over its labels


def _figures(
    label: str, status: npt.NDArray[np.int64], rank: npt.NDArray[np.int64]
) -> GroupFigures:
    n = int(status.size)
    placed = ~np.isin(status, [int(s) for s in _UNPLACED])
    n_placed = int(placed.sum())
    first = int((status == Status.first_candidate).sum())
    ranked = rank[placed & (rank >= 0)]
    return GroupFigures(
        label=label,
        vouchers=n,
        placed_share=round(n_placed / n, 4) if n else 0.0,
        first_choice_share=round(first / n_placed, 4) if n_placed else 0.0,
        mean_rank=round(float(ranked.mean()) + 1, 3) if ranked.size else None,
    )


def summarise(
    result: AssignmentResult, groups: Mapping[str, npt.ArrayLike] | None = None
) -> RunSummary:
    """``groups`` maps a dimension (municipality, language, holder_kind …) to each voucher's
    label in it, in the run's voucher order."""
    status = result.status
    whole = _figures("all", status, result.rank)
    unplaced = {s.name: int((status == s).sum()) for s in _UNPLACED}
    disparity: dict[str, tuple[GroupFigures, ...]] = {}
    gap: dict[str, float] = {}
    for dim, labels in (groups or {}).items():
        arr: npt.NDArray[Any] = np.asarray(labels)
        values, inverse = np.unique(arr, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(values.size + 1))
        rows = tuple(
            _figures(str(values[i]), status[order[a:b]], result.rank[order[a:b]])
            for i, (a, b) in enumerate(pairwise(bounds.tolist()))
        )
        disparity[dim] = rows
        shares = [r.placed_share for r in rows]
        gap[dim] = round(max(shares) - min(shares), 4) if shares else 0.0
    return RunSummary(
        vouchers=whole.vouchers,
        placed=int((~np.isin(status, [int(s) for s in _UNPLACED])).sum()),
        placed_share=whole.placed_share,
        first_choice_share=whole.first_choice_share,
        fixed=int((status == Status.fixed).sum()),
        unplaced_by_reason=unplaced,
        disparity=disparity,
        widest_gap=gap,
    )
