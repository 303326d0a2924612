"""Reading what the comparison page shows from the matching service's answers: the ranking of a
voucher's offerings (and those left out, with the reason), the providers' outcome figures and
their ratings. Each reader takes only the shape it expects and ignores anything else, so an
answer of another shape leaves the page with less to say, never with an error."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

PAGE = 20  # offerings on one page of the comparison
FEW_RATINGS = 10  # below this many ratings an average is said to be a weak guide


@dataclass
class Ranking:
    """The ranked offerings (best first) with their factors, then the excluded with the
    reason; ``entries`` maps an offering id to ``{"factors": [...], "score": int | None}`` or
    ``{"factors": [], "excluded": reason}``."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    eligible: int = 0
    excluded: int = 0

    def order(self) -> list[str]:
        return list(self.entries)

    def get(self, offering_id: str) -> dict[str, Any] | None:
        return self.entries.get(offering_id)

    def __bool__(self) -> bool:
        return bool(self.entries)


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def tie_key(voucher_id: str, offering_id: str) -> bytes:
    """The order of offerings with equal scores on one voucher's pages: a hash of the voucher
    and the offering, so that it stays the same from page to page for one holder, differs
    between holders, and never follows names or ids."""
    return hashlib.blake2b(f"{voucher_id}:{offering_id}".encode(), digest_size=8).digest()


def ranking_of(data: Any, voucher_id: str = "") -> Ranking | None:
    """``{items: [{offering_id, score, factors: [...]}, ...], excluded: [{offering_id,
    reason}], eligible_count, excluded_count}`` → a :class:`Ranking`; None for anything else.
    Equal scores are put in the voucher's own order (:func:`tie_key`): the service rotates
    them per request, which would move them between pages."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    ranked: list[tuple[int, int, bytes, str, dict[str, Any]]] = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("offering_id"), str):
            factors = item.get("factors")
            score = _whole(item.get("score"))
            entry = {"factors": [f for f in factors if isinstance(f, dict)]
                     if isinstance(factors, list) else [], "score": score}
            # without scores the service's order stands
            ranked.append((-score if score is not None else 0, i if score is None else 0,
                           tie_key(voucher_id, item["offering_id"]), item["offering_id"],
                           entry))
    out = Ranking()
    for *_, oid, entry in sorted(ranked, key=lambda r: r[:3]):
        out.entries.setdefault(oid, entry)
    excluded = data.get("excluded") if isinstance(data, dict) else None
    for item in excluded if isinstance(excluded, list) else []:
        if isinstance(item, dict) and isinstance(item.get("offering_id"), str) \
                and item["offering_id"] not in out.entries and out.entries:
            out.entries[item["offering_id"]] = {"factors": [],
                                                "excluded": str(item.get("reason") or "")}
    assert isinstance(data, dict)
    out.eligible = _whole(data.get("eligible_count")) or sum(
        1 for e in out.entries.values() if "excluded" not in e)
    out.excluded = _whole(data.get("excluded_count")) or sum(
        1 for e in out.entries.values() if "excluded" in e)
    return out


def by_provider(data: Any, service_type: str) -> dict[str, dict[str, Any]]:
    """``{items: [{provider_id, service_type, ...}]}`` → the items of ``service_type`` by
    provider id (the statistics and the ratings of the matching service)."""
    items = data.get("items") if isinstance(data, dict) else None
    out: dict[str, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("provider_id"), str) \
                and item.get("service_type", service_type) == service_type:
            out[item["provider_id"]] = item
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def outcome(figure: dict[str, Any] | None) -> dict[str, Any]:
    """A provider's outcome figure as the page says it: ``kind`` is ``none`` (nothing
    published), ``too_few`` (below the minimum of starts), ``better`` or ``worse`` (the whole
    95 % interval above or below 1), or ``as_expected``; with the numbers for the words."""
    if figure is None:
        return {"kind": "none"}
    if figure.get("too_few_participants") is True:
        return {"kind": "too_few"}
    ratio, low, high = (_number(figure.get(k)) for k in ("ratio", "ratio_low", "ratio_high"))
    starts = _whole(figure.get("starts"))
    if ratio is None or low is None or high is None or starts is None:
        return {"kind": "none"}
    kind = "better" if low > 1 else "worse" if high < 1 else "as_expected"
    return {"kind": kind, "ratio": ratio, "low": low, "high": high, "starts": starts}


def rating(item: dict[str, Any] | None) -> dict[str, Any]:
    """A provider's ratings as the page says them: ``kind`` is ``none`` (no ratings),
    ``hidden`` (too few for an average to be shown), ``few`` (an average from fewer than
    :data:`FEW_RATINGS`) or ``shown``."""
    count = _whole(item.get("count")) if item else None
    if not count or count < 0:
        return {"kind": "none"}
    mean = _number(item.get("mean")) if item else None
    if mean is None:
        return {"kind": "hidden", "count": count}
    return {"kind": "few" if count < FEW_RATINGS else "shown", "count": count, "mean": mean}


def page_number(text: str | None, pages: int) -> int:
    """``?page=`` as a page that exists (1 for anything else)."""
    if text and text.isascii() and text.isdigit() and len(text) <= 4:
        return min(max(int(text), 1), max(pages, 1))
    return 1


def pages_of(count: int) -> int:
    return max((count + PAGE - 1) // PAGE, 1)
