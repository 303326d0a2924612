"""Browser tests: Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``; no
browser is ever downloaded) against the whole system started as real processes.

Every page a journey visits is checked by :class:`Pages`: axe-core (vendored under
``vendor/axe-core``) finds no serious or critical violation and none of the structural rules
(one main landmark, one h1, headings in order, content in landmarks); ``<html lang>`` is the
page's language; buttons, fields and navigation links are at least 44 px high; the page
breaks no rule of the Content-Security-Policy. Screenshots go to ``var/screenshots/``.

The tests skip, saying why, when Chromium or Playwright is missing (``.ci/run`` installs
Chromium with apt).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.pages import CHROMIUM, LAUNCH_ARGS, Pages
from tests.webstack import WebStack, web_stack


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return (f"Chromium not found at {CHROMIUM} (apt-get install chromium): the browser "
                "tests did not run")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]'): the browser " \
               "tests did not run"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="package")
def stack(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    with web_stack(tmp_path_factory.mktemp("web")) as s:
        yield s


@pytest.fixture(scope="package")
def checker(browser: Any) -> Iterator[Any]:
    """A JavaScript-enabled page that runs axe on the HTML a journey saw (so pages seen with
    JavaScript off, and answers to POSTs, are checked as they were)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def open_pages(browser: Any, checker: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open_pages(lang, javascript)``: a fresh browser context (no cookies) whose browser
    asks for ``lang`` first, with JavaScript on or off."""
    contexts: list[Any] = []

    def make(lang: str, javascript: bool) -> Pages:
        context = browser.new_context(
            locale={"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}[lang],
            java_script_enabled=javascript, viewport={"width": 1280, "height": 900},
            accept_downloads=True)
        context.set_default_timeout(20_000)
        contexts.append(context)
        name = request.node.name.replace("[", "-").rstrip("]").removeprefix("test_")
        return Pages(context.new_page(), checker, lang, name)

    yield make
    for context in contexts:
        context.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium against the whole system")

