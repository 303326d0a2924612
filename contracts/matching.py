"""Events published by the matching service (stream MATCHING, subjects seteli.matching.v1.*).

Matching proposes, it never decides: a proposal is a default assignment the voucher service
applies as a choice by ``default_assignment`` only if the voucher still has no provider and its
choice deadline has passed; the holder can still change it before the service starts. Each
proposal says why in words a person understands (``explanation``).

A run sends its proposals in chunks (``assignment.proposals``, up to ``PROPOSALS_PER_EVENT``
each, every proposal complete in itself); an administrator's override is one
``assignment.proposed``. The voucher service applies a chunk in one transaction, proposal by
proposal: one that no longer fits is skipped with its reason and the others are applied.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.events import EventPayload
from contracts.registry import LocalizedText


class MatchingEvent(EventPayload):
    service = "matching"
    name = "event"


class FactorValue(BaseModel):
    """One factor of a score: its value (0..1) and what it added to the score."""

    factor: str
    value: float
    contribution: float


class AssignmentProposed(MatchingEvent):
    """One voucher's default assignment in one run. ``rank`` is the offering's place in the
    voucher's own ranking (1 = its best candidate); ``override`` when a region admin set it."""

    name = "assignment.proposed"

    run_id: str
    voucher_id: str
    region: str
    service_type: str
    offering_id: str
    provider_id: str
    rank: int
    score: float
    score_version: str
    factors: list[FactorValue] = []
    override: bool = False
    explanation: LocalizedText


# Proposals in one ``assignment.proposals`` event. 500 complete proposals (six factors, the
# explanation in three languages) stay well under NATS's default 1 MB message limit (a test).
PROPOSALS_PER_EVENT = 500


class Proposal(BaseModel):
    """One voucher's default assignment within an ``assignment.proposals`` event (the fields
    of ``assignment.proposed`` that are not the run's)."""

    voucher_id: str
    service_type: str
    offering_id: str
    provider_id: str
    rank: int
    score: float
    factors: list[FactorValue] = []
    override: bool = False
    explanation: LocalizedText


class AssignmentProposals(MatchingEvent):
    """A chunk of one run's default assignments, in the run's voucher order: each proposal is
    applied or skipped on its own (a run of n placed vouchers sends ⌈n ÷ 500⌉ of these)."""

    name = "assignment.proposals"

    run_id: str
    region: str
    score_version: str
    chunk: int = Field(ge=0, description="0, 1, 2 … within the run")
    proposals: list[Proposal] = Field(max_length=PROPOSALS_PER_EVENT)


class AssignmentRunFinished(MatchingEvent):
    """A default-assignment run ended: what it proposed and what it could not."""

    name = "assignment.run_finished"

    run_id: str
    region: str
    seed: int
    score_version: str
    vouchers: int
    proposed: int
    unassigned: int
