"""The voucher lifecycle as an explicit state machine (invariant 2 in docs/ARCHITECTURE.md).

A voucher is in one state at a time; every transition is named; anything else is refused with
the current state named, so an API can answer 409 with a reason a person understands.

    issued ──choose──► chosen ──start──► started ──complete──► completed
      ▲  │              │  │                │  ▲
      │  │              │  │                └──┘ transfer (to another provider)
      │  └─cancel/expire┘  └─release──► issued   (declined, or the provider lost its place)
      └──────────────────────────────────┘        started ──cancel──► cancelled

Choosing again while ``chosen`` changes the provider (allowed until the service starts).
"""

from __future__ import annotations

from enum import StrEnum


class VoucherState(StrEnum):
    issued = "issued"
    chosen = "chosen"
    started = "started"
    completed = "completed"
    expired = "expired"
    cancelled = "cancelled"


class Action(StrEnum):
    choose = "choose"
    release = "release"
    start = "start"
    complete = "complete"
    expire = "expire"
    cancel = "cancel"
    transfer = "transfer"


TRANSITIONS: dict[tuple[VoucherState, Action], VoucherState] = {
    (VoucherState.issued, Action.choose): VoucherState.chosen,
    (VoucherState.chosen, Action.choose): VoucherState.chosen,  # change provider before start
    (VoucherState.chosen, Action.release): VoucherState.issued,
    (VoucherState.chosen, Action.start): VoucherState.started,
    (VoucherState.started, Action.complete): VoucherState.completed,
    (VoucherState.issued, Action.expire): VoucherState.expired,
    (VoucherState.chosen, Action.expire): VoucherState.expired,
    (VoucherState.issued, Action.cancel): VoucherState.cancelled,
    (VoucherState.chosen, Action.cancel): VoucherState.cancelled,
    (VoucherState.started, Action.cancel): VoucherState.cancelled,
    (VoucherState.started, Action.transfer): VoucherState.started,
}

# Places of an offering are held in these states.
HOLDS_PLACE = frozenset({VoucherState.chosen, VoucherState.started})

FINAL = frozenset({VoucherState.completed, VoucherState.expired, VoucherState.cancelled})


class IllegalTransition(Exception):
    def __init__(self, state: VoucherState, action: Action) -> None:
        super().__init__(f"a voucher that is {state.value} cannot be {_past(action)}")
        self.state = state
        self.action = action


def _past(action: Action) -> str:
    return {
        Action.choose: "given a provider",
        Action.release: "released",
        Action.start: "started",
        Action.complete: "completed",
        Action.expire: "expired",
        Action.cancel: "cancelled",
        Action.transfer: "transferred to another provider",
    }[action]


def transition(state: VoucherState, action: Action) -> VoucherState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def allowed(state: VoucherState) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s == state]
