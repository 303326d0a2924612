"""What the free-text search of offerings looks in."""

from __future__ import annotations

from collections.abc import Mapping


def search_text(title: Mapping[str, str | None], description: Mapping[str, str | None],
                provider_name: str) -> str:
    """The provider's name, the title and the description in every language, lower-cased."""
    parts = [provider_name, *(v for v in title.values() if v),
             *(v for v in description.values() if v)]
    return " ".join(parts).lower()
