"""Where and how an offering is given, beyond its municipalities: the premises' address, their
accessibility, whether new customers are taken now; and which part of an offering a change
touches, so that each part tells when it was last updated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The accessibility of the premises, a small controlled set (the free text says the rest).
ACCESSIBILITY = ("step_free_entrance", "accessible_toilet", "induction_loop", "lift",
                 "accessible_parking")

# The parts of an offering whose last change is shown, and the fields of each.
PARTS: dict[str, frozenset[str]] = {
    "details": frozenset({"service_type", "title", "description", "languages",
                          "unit_price_cents", "duration_days"}),
    "places": frozenset({"capacity", "next_start", "accepting_new_customers"}),
    "premises": frozenset({"municipalities", "remote", "street_address", "postcode",
                           "post_office", "accessibility", "accessibility_note"}),
}


def changed_parts(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """The parts in which some field differs between ``before`` and ``after``."""
    return {part for part, fields in PARTS.items()
            if any(before.get(f) != after.get(f) for f in fields)}
