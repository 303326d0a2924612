"""A chunk of proposals (``assignment.proposals``) in the voucher service: each proposal is
applied or skipped with its reason, a skipped one never stops the others, and the chunk is
inbox-guarded as one event."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from contracts.matching import PROPOSALS_PER_EVENT, AssignmentProposals
from contracts.registry import LocalizedText
from services.matching.use_cases.clock import today as finnish_today
from services.voucher.models import Voucher
from services.voucher.use_cases import assignments
from tests.integration.matching.conftest import HOLDERS, Town

TOMORROW = finnish_today() + timedelta(days=1)


def proposal(voucher_id: str, offering_id: str, provider_id: str) -> dict[str, Any]:
    return {"voucher_id": voucher_id, "service_type": "job-search-coaching",
            "offering_id": offering_id, "provider_id": provider_id, "rank": 1, "score": 10.0,
            "factors": [{"factor": "outcome", "value": 0.0, "contribution": 0}],
            "explanation": {"fi": "paras vaihtoehtosi", "en": "your 1st candidate"}}


def test_a_full_chunk_fits_in_one_nats_message() -> None:
    """500 proposals with six factors and long explanations in three languages stay under
    NATS's default max_payload (1 MB) with room to spare."""
    long = "x" * 120
    item = proposal(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    item["factors"] = [{"factor": "co_payment", "value": -0.1234, "contribution": -150}] * 6
    item["explanation"] = LocalizedText(fi=long, sv=long, en=long).model_dump()
    chunk = AssignmentProposals.model_validate({
        "run_id": str(uuid.uuid4()), "region": "pirkanmaa", "score_version": "2026-12.1",
        "chunk": 0, "proposals": [item] * PROPOSALS_PER_EVENT})
    size = len(orjson.dumps(chunk.envelope(resource=chunk.run_id).model_dump(mode="json")))
    assert size < 700_000, size
    with pytest.raises(ValueError):
        AssignmentProposals.model_validate(chunk.model_dump() | {
            "proposals": [item] * (PROPOSALS_PER_EVENT + 1)})


async def test_each_proposal_of_a_chunk_is_applied_or_skipped_with_its_reason(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.voucher.use_cases.assignments.today", lambda: TOMORROW)
    local, remote = town.offerings["local"], town.offerings["remote"]
    p_local = town.providers["local"]
    fits, holders_own, no_offering, other = (town.vouchers[h] for h in HOLDERS[:4])
    # The holder chose before the deadline: a proposal never overrides that.
    r = await town.market.client.post(f"/vouchers/{holders_own}/choice",
                                      json={"offering_id": remote},
                                      headers=town.market.citizen(HOLDERS[1]))
    assert r.status_code == 200, r.text
    missing = str(uuid.uuid4())
    chunk = AssignmentProposals.model_validate({
        "run_id": str(uuid.uuid4()), "region": "pirkanmaa", "score_version": "2026-12.1",
        "chunk": 0, "proposals": [
            proposal(missing, local, p_local),
            proposal(holders_own, local, p_local),
            proposal(no_offering, str(uuid.uuid4()), p_local),
            proposal(fits, local, p_local),
        ]})
    elsewhere = AssignmentProposals.model_validate(chunk.model_dump() | {
        "region": "lappi", "chunk": 1, "proposals": [proposal(other, local, p_local)]})
    consumer = next(c for c in town.market.app.state.runtime.consumers
                    if c.name == "voucher-from-matching")
    events = [chunk.envelope(resource=chunk.run_id),
              elsewhere.envelope(resource=elsewhere.run_id)]
    logged: list[dict[str, int]] = []
    apply_wanted = assignments.apply_wanted

    async def spy(s: Any, wanted: list[assignments.Wanted]) -> dict[str, int]:
        logged.append(await apply_wanted(s, wanted))
        return logged[-1]

    monkeypatch.setattr(assignments, "apply_wanted", spy)
    assert await consumer.apply_envelopes(events) == (2, 0)
    assert logged == [{"applied": 1, "no such voucher": 1,
                       "the voucher's provider was chosen already": 1,
                       "offering_id: no such offering": 1,
                       "the voucher is in another region": 1}]
    async with town.market.db.reader() as s:
        vs = {v.id: v for v in (await s.scalars(select(Voucher).where(Voucher.id.in_(
            [fits, holders_own, no_offering, other])))).all()}
    assert (vs[fits].offering_id, vs[fits].chosen_by) == (local, "default_assignment")
    assert (vs[holders_own].offering_id, vs[holders_own].chosen_by) == (remote, "holder")
    assert vs[no_offering].state == vs[other].state == "issued"
    version = vs[fits].version
    # The same chunks again: the inbox skips them; nothing changes.
    assert await consumer.apply_envelopes(events) == (0, 2)
    async with town.market.db.reader() as s:
        assert (await s.get(Voucher, fits)).version == version
