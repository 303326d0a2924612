"""Reading what the comparison page shows from the matching service's answers: the ranking of a
voucher's offerings (and those left out, with the reason), the providers' outcome figures and
their ratings. Each reader takes only the shape it expects and ignores anything else, so an
answer of another shape leaves the page with less to say, never with an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE = 20  # offerings on one page of the comparison
FEW_RATINGS = 10  # below this many ratings an average is said to be a weak guide


@dataclass
class Ranking:
    """One page of the ranking: the ranked offerings (best first) with their factors, then the
    excluded with the reason; ``entries`` maps an offering id to ``{"factors": [...], "score":
    int | None}`` or ``{"factors": [], "excluded": reason}``. ``eligible`` and ``excluded``
    count the whole ranking, every page."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    eligible: int = 0
    excluded: int = 0

    def order(self) -> list[str]:
        return list(self.entries)

    def get(self, offering_id: str) -> dict[str, Any] | None:
        return self.entries.get(offering_id)

    def providers(self) -> list[str]:
        """The providers of this page's offerings, each once."""
        return list(dict.fromkeys(e["provider_id"] for e in self.entries.values()
                                  if e.get("provider_id")))

    def pages(self) -> int:
        return pages_of(self.eligible + self.excluded)

    def __bool__(self) -> bool:
        """A ranking to show: something is eligible (without, the page lists the search)."""
        return self.eligible > 0


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _provider(item: dict[str, Any]) -> str | None:
    pid = item.get("provider_id")
    return pid if isinstance(pid, str) else None


def ranking_of(data: Any) -> Ranking | None:
    """One page of ``{items: [{offering_id, provider_id, score, factors: [...]}, ...],
    excluded: [{offering_id, provider_id, reason}], eligible_count, excluded_count}`` → a
    :class:`Ranking`; None for anything else. The service's order stands: it orders equal
    scores by the voucher's own rotation, the same on every page."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    out = Ranking()
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("offering_id"), str):
            factors = item.get("factors")
            out.entries.setdefault(item["offering_id"], {
                "factors": [f for f in factors if isinstance(f, dict)]
                if isinstance(factors, list) else [], "score": _whole(item.get("score")),
                "provider_id": _provider(item)})
    excluded = data.get("excluded") if isinstance(data, dict) else None
    for item in excluded if isinstance(excluded, list) else []:
        if isinstance(item, dict) and isinstance(item.get("offering_id"), str) \
                and item["offering_id"] not in out.entries:
            out.entries[item["offering_id"]] = {"factors": [],
                                                "excluded": str(item.get("reason") or ""),
                                                "provider_id": _provider(item)}
    assert isinstance(data, dict)
    eligible, left_out = _whole(data.get("eligible_count")), _whole(data.get("excluded_count"))
    out.eligible = eligible if eligible is not None else sum(
        1 for e in out.entries.values() if "excluded" not in e)
    out.excluded = left_out if left_out is not None else sum(
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
