"""Time as the matching service reads it: deadlines are Finnish calendar dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

FINLAND = ZoneInfo("Europe/Helsinki")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().astimezone(FINLAND).date()
