"""Reference data the pages show names from: regions with their municipalities, and the
service-type catalogue. Public, changed rarely: read through the API and kept for a minute."""

from __future__ import annotations

import time
from typing import Any

from gateway.web import i18n
from gateway.web.context import Ctx

TTL_SECONDS = 60.0
# Languages offered in the search and the offering form, besides any an offering names.
COMMON_LANGUAGES = ("fi", "sv", "en", "se", "ar", "so", "ru", "uk", "et", "fa", "ku", "es",
                    "fr", "de", "zh", "vi", "th", "tr", "pl", "sq")


async def _cached(ctx: Ctx, path: str) -> Any:
    hit = ctx.web.cache.get(path)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    data = await ctx.api.get(path)
    ctx.web.cache[path] = (now + TTL_SECONDS, data)
    return data


async def regions(ctx: Ctx) -> list[dict[str, Any]]:
    data = await _cached(ctx, "/regions")
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


async def service_types(ctx: Ctx) -> list[dict[str, Any]]:
    data = await _cached(ctx, "/service-types")
    return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []


def name(texts: dict[str, str | None] | None, lang: str) -> str:
    return i18n.pick(texts, lang)[0]


class Names:
    """Region, municipality and service-type names in the page's language."""

    def __init__(self, regions: list[dict[str, Any]], types: list[dict[str, Any]],
                 lang: str) -> None:
        self.lang = lang
        self.regions = {r["code"]: name(r.get("name"), lang) for r in regions}
        self.municipalities = {m["code"]: name(m.get("name"), lang)
                               for r in regions for m in r.get("municipalities", [])}
        self.types = {t["code"]: name(t.get("name"), lang) for t in types}
        self.region_list = regions

    def region(self, code: str) -> str:
        return self.regions.get(code, code)

    def municipality(self, code: str) -> str:
        return self.municipalities.get(code, code)

    def service_type(self, code: str) -> str:
        return self.types.get(code, code)

    def languages(self, extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """(code, name) of the common languages and ``extra``: the three of the pages first,
        then by name."""
        codes = list(dict.fromkeys([*COMMON_LANGUAGES, *extra]))
        first = [c for c in codes if c in i18n.LANGS]
        rest = sorted((c for c in codes if c not in i18n.LANGS),
                      key=lambda c: i18n.language_name(c, self.lang).casefold())
        return [(c, i18n.language_name(c, self.lang)) for c in (*first, *rest)]


async def names(ctx: Ctx) -> Names:
    return Names(await regions(ctx), await service_types(ctx), ctx.lang)
