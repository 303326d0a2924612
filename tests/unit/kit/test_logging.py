"""Log lines stay bounded and never carry a frame's local variables."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from kit.logging import MAX_LINE, configure_logging


@pytest.fixture(autouse=True)
def _logs_to_the_real_stdout_afterwards() -> Iterator[None]:
    yield
    configure_logging("INFO", json=True)  # the captured stream is closed after the test


def fails_holding_a_secret() -> None:
    secret = "s3cr3t-" + "x" * 300_000  # noqa: F841 (a local that must not be logged)
    raise OverflowError("Python int too large to convert to SQLite INTEGER")


def deep(n: int) -> None:
    if n == 0:
        fails_holding_a_secret()
    deep(n - 1)


def test_a_logged_exception_has_no_locals_and_a_bounded_size(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True, service="t")
    log = structlog.get_logger("t")
    try:
        deep(200)
    except OverflowError:
        log.exception("unhandled_error", path="/a" * 50_000)
    line = capsys.readouterr().out.strip()
    assert len(line) <= MAX_LINE + 200
    assert "s3cr3t" not in line
    record = json.loads(line)
    assert record["event"] == "unhandled_error" and record["level"] == "error"
    assert "OverflowError" in json.dumps(record)


def test_an_ordinary_exception_keeps_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True, service="t")
    try:
        fails_holding_a_secret()
    except OverflowError:
        structlog.get_logger("t").exception("failed")
    record = json.loads(capsys.readouterr().out.strip())
    frames = record["exception"][0]["frames"]
    assert frames[-1]["name"] == "fails_holding_a_secret"
    assert all("locals" not in f or not f["locals"] for f in frames)
    assert "s3cr3t" not in json.dumps(record)
