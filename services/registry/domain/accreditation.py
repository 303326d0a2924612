"""Accreditation of a provider in one region, as an explicit state machine.

    applied ──approve──► approved ──suspend──► suspended ──reinstate──► approved
       │                  │  ▲ renew              │
       └─reject─► rejected │  └──────────┘        │
                           ├──revoke──► revoked ◄──┤
                           └──expire──► expired ◄──┘
    rejected / expired ──reapply──► applied

The same words as every state machine in Seteli: a *state*, an *action* that moves it, the
*transitions* table, :func:`transition` and :class:`IllegalTransition` naming the state and the
actions it allows. An admin's action is called a *decision* in the API.

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


class Action(StrEnum):
    approve = "approve"
    reject = "reject"
    suspend = "suspend"
    reinstate = "reinstate"
    revoke = "revoke"
    renew = "renew"
    expire = "expire"
    reapply = "reapply"


S, A = AccreditationState, Action

TRANSITIONS: dict[tuple[AccreditationState, Action], AccreditationState] = {
    (S.applied, A.approve): S.approved,
    (S.applied, A.reject): S.rejected,
    (S.approved, A.suspend): S.suspended,
    (S.approved, A.renew): S.approved,
    (S.suspended, A.reinstate): S.approved,
    (S.approved, A.revoke): S.revoked,
    (S.suspended, A.revoke): S.revoked,
    (S.approved, A.expire): S.expired,
    (S.suspended, A.expire): S.expired,
    (S.rejected, A.reapply): S.applied,
    (S.expired, A.reapply): S.applied,
}

# Actions a region admin takes through the API, as decisions (expire is the scheduled job's;
# reapply the provider's).
ADMIN_ACTIONS = frozenset({A.approve, A.reject, A.suspend, A.reinstate, A.revoke, A.renew})
# Actions that set how long the accreditation holds.
NEEDS_VALID_UNTIL = frozenset({A.approve, A.renew})
# The only state in which the provider can be chosen in the region.
CHOOSABLE = frozenset({S.approved})
# States the expiry job looks at: those that expire can.
EXPIRABLE = frozenset(state for (state, action) in TRANSITIONS if action is A.expire)

# The event each resulting change emits.
EVENT_OF: dict[Action, str] = {
    A.approve: "provider.accredited",
    A.renew: "provider.accredited",
    A.reject: "provider.rejected",
    A.suspend: "provider.suspended",
    A.reinstate: "provider.reinstated",
    A.revoke: "provider.revoked",
    A.expire: "provider.expired",
    A.reapply: "provider.reapplied",
}


def allowed(state: AccreditationState) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s == state]


class IllegalTransition(Exception):
    def __init__(self, state: AccreditationState, action: Action) -> None:
        names = sorted(a.value for a in allowed(state))
        super().__init__(
            f"an accreditation that is {state.value} cannot take the decision "
            f"'{action.value}' (allowed: {', '.join(names) or 'none'})"
        )
        self.state = state
        self.action = action


def transition(state: AccreditationState, action: Action) -> AccreditationState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def choosable(state: AccreditationState) -> bool:
    return state in CHOOSABLE


def sets_valid_until(action: Action) -> bool:
    return action in NEEDS_VALID_UNTIL
