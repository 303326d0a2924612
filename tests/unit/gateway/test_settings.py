"""Dev mode cannot be switched on in production or on a public address; production needs real
secrets."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from gateway.settings import Settings, command_line_hosts, is_loopback

SECRETS = {"principal_secret": "p" * 40, "session_secret": "s" * 40,
           "person_key_secret": "k" * 40}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SETELI_ENV", "GATEWAY_ENV", "GATEWAY_HOST", "GATEWAY_DEV_MODE", "UVICORN_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["pytest"])


@pytest.mark.parametrize(("env", "host"), [("production", "127.0.0.1"),
                                           ("production", "0.0.0.0"),
                                           ("development", "0.0.0.0"),
                                           ("development", "10.1.2.3"),
                                           ("test", "::"),
                                           ("development", "seteli.example.fi")])
def test_dev_mode_refused_in_production_or_off_loopback(env: str, host: str) -> None:
    with pytest.raises(ValidationError, match="dev_mode"):
        Settings(env=env, host=host, dev_mode=True, **SECRETS)


def test_dev_mode_refused_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETELI_ENV", "production")
    monkeypatch.setenv("GATEWAY_DEV_MODE", "true")
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"GATEWAY_{name.upper()}", value)
    with pytest.raises(ValidationError, match="dev_mode cannot be on when SETELI_ENV"):
        Settings()
    monkeypatch.delenv("GATEWAY_DEV_MODE")
    assert Settings().dev_mode is False


def test_dev_mode_default() -> None:
    assert Settings().dev_mode is True  # local development on loopback
    assert Settings(host="::1").dev_mode is True
    assert Settings(env="production", **SECRETS).dev_mode is False
    assert Settings(host="0.0.0.0").dev_mode is False  # public: off, quietly
    assert Settings(env="test").dev_mode is False


@pytest.mark.parametrize("argv", [
    ["/srv/.venv/bin/uvicorn", "gateway.main:app", "--host", "0.0.0.0"],
    ["/srv/.venv/lib/python3.11/site-packages/uvicorn/__main__.py", "gateway.main:app",
     "--host=192.168.1.5"],
    ["/srv/.venv/bin/uvicorn", "gateway.main:app", "--fd", "3"],
    ["/srv/.venv/bin/gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000",
     "gateway.main:app"],
])
def test_dev_mode_refused_when_the_server_binds_a_public_address(
        monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(ValidationError, match="only on loopback"):
        Settings(dev_mode=True)  # GATEWAY_HOST says loopback, the command line does not
    assert Settings().dev_mode is False


def test_loopback_command_lines_keep_dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/x/bin/uvicorn", "gateway.main:app", "--host",
                                      "127.0.0.1", "--port", "8000"])
    assert Settings().dev_mode is True
    monkeypatch.setattr(sys, "argv", ["/x/bin/uvicorn", "gateway.main:app"])
    monkeypatch.setenv("UVICORN_HOST", "0.0.0.0")
    assert Settings().dev_mode is False


def test_command_line_hosts() -> None:
    assert command_line_hosts(["pytest", "--host", "0.0.0.0"], {}) == []
    assert command_line_hosts(["/b/uvicorn", "a:app"], {}) == []
    assert command_line_hosts(["/b/uvicorn", "a:app"], {"UVICORN_HOST": "::"}) == ["::"]
    assert command_line_hosts(["/b/gunicorn", "--bind=unix:/run/g.sock"], {}) == ["*"]
    assert command_line_hosts(["/b/gunicorn", "--bind", "[::1]:8000"], {}) == ["[::1]"]


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.5.5.5", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "example.fi", "*", ""]))


def test_production_needs_real_secrets() -> None:
    with pytest.raises(ValidationError, match="GATEWAY_SESSION_SECRET"):
        Settings(env="production", principal_secret="p" * 40, person_key_secret="k" * 40)
    with pytest.raises(ValidationError, match="PERSON_KEY_SECRET"):
        Settings(env="production", principal_secret="p" * 40, session_secret="s" * 40)
    with pytest.raises(ValidationError, match="principal_secret"):
        Settings(env="production", session_secret="s" * 40, person_key_secret="k" * 40)


def test_tls_follows_the_public_url() -> None:
    assert Settings(public_url="https://seteli.example.fi").tls
    assert not Settings(public_url="http://localhost:8000").tls
