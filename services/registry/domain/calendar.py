"""Dates as people in Finland read them: an accreditation ``valid_until`` 2026-12-31 holds until
the end of that day in Helsinki, whatever the server's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")

# Bounds that catch typing errors in dates (a valid_until in the year 3024).
MAX_VALIDITY_DAYS = 5 * 366
MAX_START_AHEAD_DAYS = 2 * 366


def local_date(now: datetime) -> date:
    """The calendar date in Finland at the instant ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return now.astimezone(HELSINKI).date()


def has_expired(valid_until: date | None, today: date) -> bool:
    """An accreditation is valid through ``valid_until`` and expired from the day after."""
    return valid_until is not None and valid_until < today
