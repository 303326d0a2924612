"""Accreditation of a provider in one region, as an explicit state machine.

    applied ──approve──► approved ──suspend──► suspended ──reinstate──► approved
       │                  │  ▲ renew              │
       └─reject─► rejected │  └──────────┘        │
                           ├──revoke──► revoked ◄──┤
                           └──expire──► expired ◄──┘
    rejected / expired ──reapply──► applied

Only an approved accreditation makes a provider choosable in the region.
"""

from __future__ import annotations

from enum import StrEnum


class AccreditationState(StrEnum):
    applied = "applied"
    approved = "approved"
    rejected = "rejected"
    suspended = "suspended"
    revoked = "revoked"
    expired = "expired"


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    suspend = "suspend"
    reinstate = "reinstate"
    revoke = "revoke"
    renew = "renew"
    expire = "expire"
    reapply = "reapply"


S, D = AccreditationState, Decision

TRANSITIONS: dict[tuple[AccreditationState, Decision], AccreditationState] = {
    (S.applied, D.approve): S.approved,
    (S.applied, D.reject): S.rejected,
    (S.approved, D.suspend): S.suspended,
    (S.approved, D.renew): S.approved,
    (S.suspended, D.reinstate): S.approved,
    (S.approved, D.revoke): S.revoked,
    (S.suspended, D.revoke): S.revoked,
    (S.approved, D.expire): S.expired,
    (S.suspended, D.expire): S.expired,
    (S.rejected, D.reapply): S.applied,
    (S.expired, D.reapply): S.applied,
}

# Decisions a region admin takes through the API (expire is the scheduled job's; reapply the
# provider's).
ADMIN_DECISIONS = frozenset({D.approve, D.reject, D.suspend, D.reinstate, D.revoke, D.renew})
NEEDS_VALID_UNTIL = frozenset({D.approve, D.renew})

# The event each resulting change emits.
EVENT_OF: dict[Decision, str] = {
    D.approve: "provider.accredited",
    D.renew: "provider.accredited",
    D.reject: "provider.rejected",
    D.suspend: "provider.suspended",
    D.reinstate: "provider.reinstated",
    D.revoke: "provider.revoked",
    D.expire: "provider.expired",
    D.reapply: "provider.reapplied",
}


class IllegalDecision(Exception):
    def __init__(self, state: AccreditationState, decision: Decision) -> None:
        allowed = sorted(d.value for (s, d) in TRANSITIONS if s == state)
        super().__init__(
            f"an accreditation that is {state.value} cannot take the decision "
            f"'{decision.value}' (allowed: {', '.join(allowed) or 'none'})"
        )
        self.state = state
        self.decision = decision


def decide(state: AccreditationState, decision: Decision) -> AccreditationState:
    try:
        return TRANSITIONS[(state, decision)]
    except KeyError:
        raise IllegalDecision(state, decision) from None


def choosable(state: AccreditationState) -> bool:
    return state is AccreditationState.approved
