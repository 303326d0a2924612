"""Risk-adjusted outcome figures, the 18-start threshold, the frozen comparison group and the
creaming signal, on synthetic holders whose true chances are known."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.outcomes import (
    FEATURES,
    creaming_signals,
    publish_figures,
)
from services.matching.domain.score import recommend
from services.matching.domain.types import (
    OfferingView,
    OutcomeRecord,
    ProfileBands,
    VoucherView,
)

END = date(2026, 12, 1)
UNEMPLOYMENT = ("under_3_months", "from_3_to_12_months", "from_12_to_24_months", "over_24_months")
EDUCATION = ("basic", "upper_secondary", "tertiary")
# log-odds of employment or studies by band: short unemployment and tertiary education help
U_EFFECT = dict(zip(UNEMPLOYMENT, (1.2, 0.4, -0.5, -1.4), strict=True))
E_EFFECT = dict(zip(EDUCATION, (-0.6, 0.0, 0.7), strict=True))


def synthetic(seed: int = 11) -> list[OutcomeRecord]:
    """Twenty ordinary providers with the region's mix; ``easy`` takes holders with short
    unemployment and tertiary education, ``hard`` long-term unemployed with basic education;
    both add the same +0.6 to every holder's log-odds (equally effective)."""
    rng = np.random.default_rng(seed)
    records: list[OutcomeRecord] = []

    def add(provider: str, n: int, u_p: list[float], e_p: list[float], effect: float) -> None:
        for _ in range(n):
            u = UNEMPLOYMENT[rng.choice(4, p=u_p)]
            e = EDUCATION[rng.choice(3, p=e_p)]
            logit = -0.3 + U_EFFECT[u] + E_EFFECT[e] + effect
            ok = rng.random() < 1 / (1 + math.exp(-logit))
            records.append(
                OutcomeRecord(
                    voucher_id=f"v{len(records):05d}",
                    provider_id=provider,
                    service_type="coaching",
                    region="uusimaa",
                    holder_kind="person",
                    profile=ProfileBands(u, e, "none"),
                    started_on=END - timedelta(days=int(rng.integers(1, 700))),
                    outcome="employed" if ok else "not_achieved",
                )
            )

    mix = [0.25, 0.25, 0.25, 0.25]
    for i in range(20):
        add(f"ordinary{i:02d}", 150, mix, [1 / 3, 1 / 3, 1 / 3], 0.0)
    add("easy", 300, [0.85, 0.15, 0.0, 0.0], [0.05, 0.15, 0.8], 0.6)
    add("hard", 300, [0.0, 0.0, 0.15, 0.85], [0.8, 0.15, 0.05], 0.6)
    add("small", 17, mix, [1 / 3, 1 / 3, 1 / 3], 0.0)
    return records


RECORDS = synthetic()
PUB = publish_figures(RECORDS, window_end=END)
FIG = {f.provider_id: f for f in PUB.figures}


def test_risk_adjustment_ranks_the_hard_customer_provider_above_the_easy_one() -> None:
    easy, hard = FIG["easy"], FIG["hard"]
    assert easy.actual_rate is not None and hard.actual_rate is not None
    assert easy.actual_rate > hard.actual_rate + 0.3  # raw rates would favour the easy one
    assert easy.ratio is not None and hard.ratio is not None
    assert hard.ratio > easy.ratio > 1.0  # both better than expected; hard by more
    assert easy.ratio_low is not None and easy.ratio_high is not None
    assert easy.ratio_low < easy.ratio < easy.ratio_high
    voucher = VoucherView("v", "uusimaa", "coaching", "person", "091", ("fi",), False, 200_000, END)

    def offer(pid: str) -> OfferingView:
        return OfferingView(
            pid, pid, "uusimaa", "coaching", ("091",), False, ("fi",), 3, 200_000, None, True
        )

    for key in range(20):
        rec = recommend(
            voucher, [offer("easy"), offer("hard")], FIG, {}, today=END, rotation_key=key
        )
        assert [r.provider_id for r in rec.ranked] == ["hard", "easy"]


def test_the_creaming_signal_flags_the_easy_customer_provider_only() -> None:
    signals = creaming_signals(PUB)
    assert [s.provider_id for s in signals] == ["easy"]
    s = signals[0]
    assert s.provider_expected_rate > s.region_expected_rate + 0.1
    assert s.z >= 3.0
    assert s.publication_id == PUB.publication_id


def test_below_18_starts_there_is_no_figure() -> None:
    small = FIG["small"]
    assert small.starts == 17
    assert not small.shown
    assert (small.ratio, small.actual_rate, small.expected_rate) == (None, None, None)
    assert (small.ratio_low, small.ratio_high) == (None, None)
    assert all(f.shown for f in PUB.figures if f.provider_id != "small")


def test_small_numbers_are_pulled_toward_one() -> None:
    """The same 18 holders, all employed, twice: the ratio with the prior is nearer 1 than
    actual ÷ expected."""
    few = [replace(r, provider_id="few", outcome="employed") for r in RECORDS[:18]]
    pub = publish_figures(RECORDS[18:] + few, window_end=END)
    f = next(x for x in pub.figures if x.provider_id == "few")
    assert f.shown and f.ratio is not None and f.expected_rate is not None
    raw = 1.0 / f.expected_rate
    assert 1.0 < f.ratio < raw


def test_the_comparison_group_is_frozen_in_the_publication() -> None:
    (group,) = PUB.groups
    assert [name for name, _ in group.coefficients] == list(FEATURES)
    assert set(group.record_ids) == {r.voucher_id for r in RECORDS}
    assert group.starts == len(RECORDS)
    # the same inputs publish the same id and figures; one changed outcome, another id
    assert publish_figures(reversed(RECORDS), window_end=END) == PUB
    changed = [replace(RECORDS[0], outcome="studying"), *RECORDS[1:]]
    if RECORDS[0].outcome == "studying":
        changed[0] = replace(RECORDS[0], outcome="not_achieved")
    assert publish_figures(changed, window_end=END).publication_id != PUB.publication_id
    # band coefficients have the sign of the true effects
    coef = dict(group.coefficients)
    assert coef["unemployment=under_3_months"] > coef["unemployment=over_24_months"]
    assert coef["education=tertiary"] > coef["education=basic"]


def test_the_window_rolls_and_pending_outcomes_are_left_out() -> None:
    later = END + timedelta(days=365)
    pub = publish_figures(RECORDS, window_end=later)
    assert pub.window_start == later - timedelta(days=730)
    kept = {r.voucher_id for r in RECORDS if r.started_on >= pub.window_start}
    assert set(pub.groups[0].record_ids) == kept
    pending = [replace(RECORDS[0], voucher_id="pending", outcome=None)]
    pub2 = publish_figures(RECORDS + pending, window_end=END)
    assert "pending" not in pub2.groups[0].record_ids
    assert pub2.publication_id == PUB.publication_id


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    rate=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**16),
)
def test_every_figure_is_shown_from_18_starts_and_lies_between_one_and_its_raw_ratio(
    sizes: list[int], rate: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    records = [
        OutcomeRecord(
            voucher_id=f"v{p}-{i}",
            provider_id=f"p{p}",
            service_type="coaching",
            region="uusimaa",
            holder_kind=str(rng.choice(["person", "company"])),
            profile=ProfileBands(
                str(rng.choice(UNEMPLOYMENT)), str(rng.choice(EDUCATION)), "unknown"
            ),
            started_on=END - timedelta(days=10),
            outcome="employed" if rng.random() < rate else "not_achieved",
        )
        for p, n in enumerate(sizes)
        for i in range(n)
    ]
    pub = publish_figures(records, window_end=END)
    assert sorted(f.starts for f in pub.figures) == sorted(sizes)
    for f in pub.figures:
        assert f.shown == (f.starts >= 18)
        if not f.shown:
            continue
        assert f.ratio is not None and f.actual_rate is not None and f.expected_rate is not None
        assert f.ratio_low is not None and f.ratio_high is not None
        assert f.expected_rate > 0
        raw = f.actual_rate / f.expected_rate
        slack = 1e-2 * max(1.0, raw)  # the rates are rounded to 4 decimals
        assert min(1.0, raw) - slack <= f.ratio <= max(1.0, raw) + slack
        assert f.ratio_low - slack <= raw <= f.ratio_high + slack
