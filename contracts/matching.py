"""Events published by the matching service (stream MATCHING, subjects seteli.matching.v1.*).

Matching proposes, it never decides: an ``assignment.proposed`` event is a default assignment
the voucher service applies as a choice by ``default_assignment`` only if the voucher still has
no provider and its choice deadline has passed; the holder can still change it before the
service starts. Each proposal says why in words a person understands (``explanation``).
"""

from __future__ import annotations

from pydantic import BaseModel

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
