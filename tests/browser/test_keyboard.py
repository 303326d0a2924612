"""Keyboard use: the skip link comes first and leads to the content, and everything that
takes focus shows it (an outline of at least 2 px)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webstack import WebStack

pytestmark = pytest.mark.browser
FOCUS = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {tag: e.tagName, id: e.id, cls: e.className, text: (e.innerText || '').slice(0, 30),
          outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
          top: r.top, bottom: r.bottom, h: r.height}; }"""


@pytest.mark.parametrize("path", ["/", "/offerings?region=pirkanmaa", "/sign-in"])
def test_focus_is_always_visible_and_skip_link_first(stack: WebStack, open_pages: Any,
                                                    path: str) -> None:
    pages = open_pages("fi", True)
    page = pages.page
    page.goto(stack.url + path)
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS)
    assert "skip-link" in first["cls"], first
    assert first["top"] >= 0 and first["h"] >= 43.5, first  # shown on focus, big enough
    name = path.strip("/").split("?")[0] or "front"
    page.screenshot(path=str(pages_dir() / f"keyboard-skip-link-{name}.png"))
    for _ in range(12):
        focused = page.evaluate(FOCUS)
        if focused["tag"] == "BODY":
            break  # past the last element of the page
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
        page.keyboard.press("Tab")
    page.goto(stack.url + path)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def pages_dir() -> Any:
    from tests.browser.pages import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
