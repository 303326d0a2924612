"""Reason codes: the documented lists a decision picks from (plus free text). Each code has a
Finnish and an English explanation that both sides of the decision see."""

from __future__ import annotations

from enum import StrEnum


class ClaimRejection(StrEnum):
    evidence_missing = "evidence_missing"
    evidence_insufficient = "evidence_insufficient"
    milestone_not_reached = "milestone_not_reached"
    outcome_not_verified = "outcome_not_verified"
    service_not_as_offered = "service_not_as_offered"
    holder_not_served = "holder_not_served"
    other = "other"


class Cancellation(StrEnum):
    holder_request = "holder_request"
    holder_no_longer_eligible = "holder_no_longer_eligible"
    issued_in_error = "issued_in_error"
    holder_moved = "holder_moved"
    service_interrupted = "service_interrupted"
    other = "other"


class Decline(StrEnum):
    no_capacity = "no_capacity"
    service_not_suitable = "service_not_suitable"
    holder_unreachable = "holder_unreachable"
    other = "other"


EXPLANATIONS: dict[str, tuple[str, str]] = {
    "evidence_missing": ("Näyttö puuttuu", "No evidence was given"),
    "evidence_insufficient": ("Näyttö ei riitä", "The evidence does not show the milestone"),
    "milestone_not_reached": ("Vaihe ei ole toteutunut", "The milestone has not been reached"),
    "outcome_not_verified": ("Tulosta ei voitu todentaa", "The outcome could not be verified"),
    "service_not_as_offered": ("Palvelu ei vastannut tarjousta",
                               "The service was not delivered as offered"),
    "holder_not_served": ("Asiakas ei saanut palvelua", "The holder did not receive the service"),
    "holder_request": ("Asiakkaan pyyntö", "At the holder's request"),
    "holder_no_longer_eligible": ("Asiakas ei enää oikeutettu",
                                  "The holder is no longer eligible"),
    "issued_in_error": ("Myönnetty virheellisesti", "Issued in error"),
    "holder_moved": ("Asiakas muutti alueelta", "The holder moved out of the region"),
    "service_interrupted": ("Palvelu keskeytyi", "The service was interrupted"),
    "no_capacity": ("Ei tilaa", "No place available"),
    "service_not_suitable": ("Palvelu ei sovi asiakkaalle", "The service does not suit the holder"),
    "holder_unreachable": ("Asiakasta ei tavoitettu", "The holder could not be reached"),
    "other": ("Muu syy (ks. selite)", "Other (see the explanation)"),
}


def needs_text(code: str) -> bool:
    """``other`` must be explained in free text."""
    return code == "other"
