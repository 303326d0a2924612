"""Pieces every registry use case uses: the clock and the scope of an idempotency key."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts.principal import Principal
from services.registry.domain.calendar import local_date


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today in Finland: dates in the registry are Finnish calendar dates."""
    return local_date(now())


def key_scope(principal: Principal | None, action: str) -> str:
    """Idempotency keys are the caller's own, per action."""
    return f"{principal.sub if principal else 'anonymous'}:{action}"
