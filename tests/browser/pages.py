"""The checks made on every page a browser journey visits (see conftest.py)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SETELI_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8")
SCREENSHOTS = ROOT / "var" / "screenshots"
# axe rules that are "moderate" but are the structure a screen-reader user relies on
STRUCTURE_RULES = {"landmark-one-main", "page-has-heading-one", "heading-order", "region",
                   "landmark-unique", "landmark-no-duplicate-main", "skip-link"}
# (language, JavaScript on): each journey in Finnish with JavaScript and in Swedish without
VARIANTS = [pytest.param("fi", True, id="fi-js"), pytest.param("sv", False, id="sv-nojs")]
# Elements people tap or click, that must be at least 44 px high (links inside running text
# are not: WCAG 2.1 AA lets them be as high as the text).
TARGETS = ("button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, "
           "textarea, nav a, .actions a, .breadcrumb a, .hds-checkbox__label, "
           ".hds-radio-button__label, .skip-link:focus")
MEASURE = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.getClientRects().length > 0 && !e.closest('.visually-hidden'))
  .map(e => ({tag: e.tagName, text: (e.innerText || e.name || e.id || '').slice(0, 40),
              h: e.getBoundingClientRect().height}))
  .filter(r => r.h < 43.5)"""
HEADINGS = """() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]
  .map(h => Number(h.tagName[1]))"""


@dataclass
class Pages:
    """Visits pages in one browser page and checks each one it lands on."""

    page: Any
    checker: Any
    lang: str
    name: str
    seen: list[str] = field(default_factory=list)
    csp_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in \
                message.text:
            self.csp_errors.append(message.text)

    def check(self, step: str, *, lang: str | None = None, screenshot: bool = True) -> None:
        """The page now shown passes every check; a screenshot is kept."""
        page = self.page
        expected = lang or self.lang
        page.wait_for_load_state()
        html = page.content()
        if 'id="main"' not in html:  # caught between a click and the page it leads to
            page.wait_for_selector("#main", state="attached")
            html = page.content()
        assert page.locator("html").get_attribute("lang") == expected, (step, page.url)
        assert not self.csp_errors, self.csp_errors
        if screenshot:
            page.screenshot(path=str(SCREENSHOTS / f"{self.name}-{step}.png"), full_page=True)
        self.seen.append(page.url)
        self._audit(step, page.url, html)

    def _audit(self, step: str, url: str, html: str) -> None:
        checker = self.checker
        pattern = re.compile("^" + re.escape(url.split("#")[0]) + "$")

        def fulfil(route: Any) -> None:
            route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")

        checker.route(pattern, fulfil)
        try:
            checker.goto(url)
        finally:
            checker.unroute(pattern)
        checker.add_script_tag(content=AXE_SOURCE)
        result = checker.evaluate("async () => await axe.run(document)")
        bad = [v for v in result["violations"]
               if v["impact"] in ("serious", "critical") or v["id"] in STRUCTURE_RULES]
        assert not bad, f"{step} ({url}): " + json.dumps(
            [{"id": v["id"], "impact": v["impact"], "help": v["help"],
              "nodes": [n["html"][:160] for n in v["nodes"][:3]]} for v in bad], indent=1)
        small = checker.evaluate(MEASURE, TARGETS)
        assert not small, f"{step}: targets under 44 px: {small}"
        levels = checker.evaluate(HEADINGS)
        assert levels and levels[0] == 1 and levels.count(1) == 1, (step, levels)
        assert all(b - a <= 1 for a, b in pairwise(levels)), (step, levels)

    def goto(self, stack_url: str, path: str, step: str, **kwargs: Any) -> None:
        self.page.goto(stack_url + path)
        self.check(step, **kwargs)
