"""Pure registry rules: the accreditation state machine and the Y-tunnus check."""

from __future__ import annotations

import pytest

from services.registry.domain.accreditation import (
    ADMIN_DECISIONS,
    TRANSITIONS,
    AccreditationState,
    Decision,
    IllegalDecision,
    choosable,
    decide,
)
from services.registry.domain.business_id import InvalidBusinessId, normalise_business_id

S, D = AccreditationState, Decision


@pytest.mark.parametrize(("state", "decision"), [
    (s, d) for s in S for d in D if (s, d) not in TRANSITIONS])
def test_every_unlisted_transition_is_refused(state: S, decision: D) -> None:
    with pytest.raises(IllegalDecision) as err:
        decide(state, decision)
    assert state.value in str(err.value)


def test_revoked_is_final_and_only_approved_is_choosable() -> None:
    assert not [d for d in D if (S.revoked, d) in TRANSITIONS]
    assert [s for s in S if choosable(s)] == [S.approved]
    assert D.expire not in ADMIN_DECISIONS and D.reapply not in ADMIN_DECISIONS


@pytest.mark.parametrize("good", ["2617416-4", "0737546-2", "1572860-0", " 2617416-4 "])
def test_valid_business_ids(good: str) -> None:
    assert normalise_business_id(good) == good.strip()


@pytest.mark.parametrize("bad", ["2617416-5", "0000006-0", "261741-4", "abcdefg-h", ""])
def test_invalid_business_ids(bad: str) -> None:
    with pytest.raises(InvalidBusinessId):
        normalise_business_id(bad)
