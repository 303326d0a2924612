"""The web pages over real HTTP: the whole system as processes (tests/webstack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.webstack import WebStack, web_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    with web_stack(tmp_path_factory.mktemp("web")) as s:
        yield s


class Browser:
    """A cookie-keeping client that signs in like a person (the dev login form)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=15, follow_redirects=False)

    def csrf(self) -> str:
        self.http.get("/sign-in")
        return str(self.http.cookies.get("seteli_csrf"))

    def sign_in(self, **field: str) -> None:
        r = self.http.get("/auth/dev-login")
        assert r.status_code == 200, r.text
        token = self.http.cookies.get("seteli_csrf")
        r = self.http.post("/auth/dev-login", data={"csrf": token, **field})
        assert r.status_code == 303, r.text

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser(stack: WebStack) -> Iterator[Browser]:
    b = Browser(stack.url)
    yield b
    b.close()


def signed_in(stack: WebStack, **who: str) -> Iterator[Browser]:
    b = Browser(stack.url)
    b.sign_in(**who)
    yield b
    b.close()


@pytest.fixture
def admin(stack: WebStack) -> Iterator[Browser]:
    """Pirkanmaa's demo region admin, signed in."""
    yield from signed_in(stack, user="admin-pirkanmaa")


@pytest.fixture
def other_admin(stack: WebStack) -> Iterator[Browser]:
    """Another region's (Pohjois-Pohjanmaa) demo admin, signed in."""
    yield from signed_in(stack, user="admin-pohjois-pohjanmaa")


@pytest.fixture
def maija(stack: WebStack) -> Iterator[Browser]:
    """The demo citizen Maija, signed in."""
    yield from signed_in(stack, user="citizen-maija")


@pytest.fixture
def matti(stack: WebStack) -> Iterator[Browser]:
    """The demo citizen Matti, signed in."""
    yield from signed_in(stack, user="citizen-matti")
