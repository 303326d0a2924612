"""Default assignments applied set-based: the voucher service writes them in bulk and tells
of them in ``voucher.vouchers_assigned`` events (up to 500 vouchers each), which matching
applies set-based. Applied in a chunk, a voucher ends as it does applied alone; a proposal
that does not fit is skipped without losing the others; a redelivered or late event changes
nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from contracts.events import Envelope
from contracts.matching import AssignmentProposals, AssignmentProposed
from contracts.voucher import AssignedChoice, VouchersAssigned
from services.matching.models import OfferingView as MatchingOffering
from services.matching.models import VoucherView
from services.matching.use_cases.clock import today as finnish_today
from services.voucher.models import OfferingPlace, Voucher, VoucherChoice, plumbing
from tests.integration.matching.conftest import HOLDERS, Town
from tests.integration.matching.test_proposals import proposal

TOMORROW = finnish_today() + timedelta(days=1)
RUN = str(uuid.uuid4())


def chunk(items: list[dict[str, Any]], n: int = 0) -> Envelope:
    e = AssignmentProposals.model_validate({
        "run_id": RUN, "region": "pirkanmaa", "score_version": "2026-12.1", "chunk": n,
        "proposals": items})
    return e.envelope(resource=RUN)


def alone(item: dict[str, Any]) -> Envelope:
    e = AssignmentProposed.model_validate(item | {"run_id": RUN, "region": "pirkanmaa",
                                                  "score_version": "2026-12.1"})
    return e.envelope(resource=item["voucher_id"])


def consumer(app: Any, name: str) -> Any:
    return next(c for c in app.state.runtime.consumers if c.name == name)


async def voucher_side(town: Town, ids: list[str]) -> dict[str, Any]:
    """Each voucher's row and choice history as the voucher service keeps them."""
    async with town.market.db.reader() as s:
        vs = {v.id: v for v in (await s.scalars(select(Voucher).where(
            Voucher.id.in_(ids)))).all()}
        history = (await s.scalars(select(VoucherChoice).where(
            VoucherChoice.voucher_id.in_(ids)).order_by(VoucherChoice.seq))).all()
    return {i: ((vs[i].state, vs[i].provider_id, vs[i].offering_id, vs[i].chosen_by,
                 vs[i].co_payment_cents, vs[i].version),
                [(c.offering_id, c.provider_id, c.chosen_by, c.actor, c.ended_at is None,
                  c.end_reason) for c in history if c.voucher_id == i]) for i in ids}


async def matching_side(town: Town) -> tuple[dict[str, tuple[Any, ...]], dict[str, int]]:
    async with town.db.reader() as s:
        rows = {v.voucher_id: (v.version, v.state, v.provider_id, v.offering_id, v.chosen_by)
                for v in (await s.scalars(select(VoucherView))).all()}
        taken = {o.offering_id: o.taken
                 for o in (await s.scalars(select(MatchingOffering))).all()}
    return rows, taken


async def test_in_bulk_as_one_by_one_and_matching_follows(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.voucher.use_cases.assignments.today", lambda: TOMORROW)
    local, remote = town.offerings["local"], town.offerings["remote"]
    p_local, p_remote = town.providers["local"], town.providers["remote"]
    v = [town.vouchers[h] for h in HOLDERS[:6]]
    issued = {i: row[0][5] for i, row in (await voucher_side(town, v)).items()}
    # a new offering with one place: two proposals for it, one is skipped
    p_small, small = await town.market.offering(7200, capacity=1, municipalities=["837"],
                                                languages=["fi"])
    bulk = consumer(town.market.app, "voucher-from-matching")
    # v0..v2 in one chunk (with v6 and v7 wanting the one place of the small offering)
    first = chunk([proposal(v[0], local, p_local), proposal(v[1], local, p_local),
                   proposal(v[2], remote, p_remote),
                   proposal(town.vouchers[HOLDERS[6]], small, p_small),
                   proposal(town.vouchers[HOLDERS[7]], small, p_small)])
    assert await bulk.apply_envelopes([first]) == (1, 0)
    # v3..v5 one proposal per event and transaction
    for voucher, offering, provider in ((v[3], local, p_local), (v[4], local, p_local),
                                        (v[5], remote, p_remote)):
        assert await bulk.apply_envelopes([alone(proposal(voucher, offering, provider))]) \
            == (1, 0)
    # overrides: v0 in a chunk, v3 alone
    moved = proposal(v[0], remote, p_remote) | {"override": True}
    assert await bulk.apply_envelopes([chunk([moved], 1)]) == (1, 0)
    assert await bulk.apply_envelopes([alone(proposal(v[3], remote, p_remote)
                                             | {"override": True})]) == (1, 0)
    got = await voucher_side(town, v)
    for a, b in ((v[0], v[3]), (v[1], v[4]), (v[2], v[5])):
        assert got[a][0][:5] == got[b][0][:5] and got[a][1] == got[b][1]
        assert got[a][0][5] - issued[a] == got[b][0][5] - issued[b]
    assert got[v[0]][0][5] == issued[v[0]] + 2  # chosen, then overridden: one each
    assert got[v[0]][1] == [(local, p_local, "default_assignment", "system", False, "override"),
                            (remote, p_remote, "default_assignment", "system", True, None)]
    assert got[v[1]][0] == ("chosen", p_local, local, "default_assignment",
                            got[v[1]][0][4], issued[v[1]] + 1)
    small_ones = await voucher_side(town, [town.vouchers[h] for h in HOLDERS[6:]])
    assert sorted(r[0][2] or "" for r in small_ones.values()) == ["", small]
    async with town.market.db.reader() as s:
        places = {p.offering_id: p.taken for p in (await s.scalars(select(OfferingPlace)))}
        outbox = [orjson.loads(r.payload) for r in (await s.execute(select(
            plumbing.outbox.c.payload).where(plumbing.outbox.c.subject.like(
                "%vouchers_assigned")))).all()]
        chosen_events = (await s.execute(select(plumbing.outbox.c.payload).where(
            plumbing.outbox.c.subject.like("%provider_chosen")))).all()
    assert places[small] == 1 and places[local] == 2 and places[remote] == 4
    assert sorted(len(e["data"]["choices"]) for e in outbox) == [1, 1, 1, 1, 1, 4]
    assert not [r for r in chosen_events if any(i in r.payload for i in v)]
    entry = next(c for e in outbox for c in e["data"]["choices"] if c["voucher_id"] == v[0]
                 and c["previous_offering_id"])
    assert (entry["offering_id"], entry["previous_offering_id"], entry["version"]) == (
        remote, local, issued[v[0]] + 2)

    # matching's read model follows: the same rows as the voucher service, places per offering
    await town.settled()
    rows, taken = await matching_side(town)
    truth = {i: (r[0][5], r[0][0], r[0][1], r[0][2], r[0][3])
             for i, r in (await voucher_side(town, list(town.vouchers.values()))).items()}
    assert {i: rows[i] for i in truth} == truth
    assert (taken[small], taken[local], taken[remote]) == (1, 2, 4)


async def test_redelivered_late_and_unknown_entries_change_nothing(town: Town) -> None:
    await town.settled()
    mine = consumer(town.app, "matching-from-voucher")
    async with town.market.db.reader() as s:
        payloads = (await s.scalars(select(plumbing.outbox.c.payload).where(
            plumbing.outbox.c.subject.like("%vouchers_assigned")))).all()
    envelopes = [Envelope.model_validate_json(p) for p in payloads]
    assert envelopes
    before = await matching_side(town)
    # the same events again: the inbox skips them
    assert await mine.apply_envelopes(envelopes) == (0, len(envelopes))
    # the same contents under new ids (a replay the inbox does not know): versions not newer
    fresh = [Envelope.model_validate(e.model_dump() | {"id": str(uuid.uuid4())})
             for e in envelopes]
    assert await mine.apply_envelopes(fresh) == (len(fresh), 0)
    assert await matching_side(town) == before
    # an unknown voucher's entry is skipped; the other entry of the event still applies
    rows, _ = before
    waiting = next(i for i, r in rows.items() if r[1] == "issued")
    local = town.offerings["local"]
    event = VouchersAssigned(region="pirkanmaa", choices=[
        AssignedChoice(voucher_id=str(uuid.uuid4()), version=2, service_type="x",
                       provider_id="p", offering_id=local),
        AssignedChoice(voucher_id=waiting, version=rows[waiting][0] + 1,
                       service_type="job-search-coaching",
                       provider_id=town.providers["local"], offering_id=local)])
    assert await mine.apply_envelopes([event.envelope(resource="pirkanmaa")]) == (1, 0)
    after_rows, after_taken = await matching_side(town)
    assert after_rows[waiting] == (rows[waiting][0] + 1, "chosen", town.providers["local"],
                                   local, "default_assignment")
    assert after_taken[local] == before[1][local] + 1
    assert {i: r for i, r in after_rows.items() if i != waiting} == {
        i: r for i, r in rows.items() if i != waiting}
