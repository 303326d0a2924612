"""Two instances of the voucher service on one PostgreSQL database and one broker behave as
one: the budget race split across both still issues exactly the budget, and a periodic job runs
once per period across both. (An instance SIGKILLed mid-run: tests/e2e/test_deployment.py.)"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from kit import metrics
from kit.jobs import claim_scope, until_next_period
from services.registry.main import create_app as registry_app
from services.registry.settings import Settings as RegistrySettings
from services.voucher.main import create_app as voucher_app
from services.voucher.models import plumbing
from services.voucher.settings import Settings as VoucherSettings
from tests.integration.registry.conftest import Registry
from tests.integration.voucher.conftest import Market
from tests.support import DbFactory, eventually, running, service_settings

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_POSTGRES_URL"),
    reason="TEST_POSTGRES_URL is not set: replicas share a PostgreSQL database")

INTERVAL = 0.3  # the voucher deadlines job's period under test


@dataclass
class Pair:
    a: Market
    b: Market


@pytest.fixture
async def pair(tmp_path: Path, clean_nats: str) -> AsyncIterator[Pair]:
    dbs = DbFactory("postgresql", tmp_path)
    target = dbs.new("voucher")
    reg_settings = service_settings(RegistrySettings, dbs.new("registry"), clean_nats)
    settings = service_settings(VoucherSettings, target, clean_nats,
                                lifecycle_interval_seconds=INTERVAL)
    reg = registry_app(reg_settings)
    a, b = voucher_app(settings), voucher_app(settings)
    try:
        async with running(reg) as r, running(a) as ca, running(b) as cb:
            registry = Registry(r, reg, clean_nats, reg_settings.principal_secret)
            pair = Pair(Market(ca, a, registry, settings), Market(cb, b, registry, settings))
            await pair.a.catalogue()
            yield pair
    finally:
        await dbs.cleanup()


async def test_budget_race_split_across_two_instances(pair: Pair) -> None:
    value = 1_000
    budget = await pair.a.open_budget(("region", 100 * value))
    answers = await asyncio.gather(*(
        (pair.a if i % 2 else pair.b).issue(budget["id"], value=value) for i in range(500)))
    statuses = [r.status_code for r in answers]
    assert statuses.count(201) == 100 and statuses.count(409) == 400, sorted(set(statuses))
    by_a = sum(1 for i, r in enumerate(answers) if i % 2 and r.status_code == 201)
    assert 0 < by_a < 100  # both instances issued some
    assert await pair.b.count("voucher") == 100
    dp, cp, dpo, cpo = await pair.b.ledger_totals()
    assert dp == cp and dpo == cpo


async def test_a_periodic_job_runs_once_per_period_across_both(pair: Pair) -> None:
    runs = metrics.JOB_RUNS.labels("voucher", "voucher-deadlines")
    keys = plumbing.idempotency
    scope = claim_scope("voucher-deadlines")

    async def claims() -> list[dict[str, object]]:
        async with pair.a.db.reader() as s:
            rows = (await s.execute(select(keys.c.body).where(keys.c.scope == scope))).all()
        return [orjson.loads(r.body) for r in rows]

    async def quiet() -> None:
        """The middle of the next period: its run (quick on an empty database) is done."""
        await asyncio.sleep(until_next_period(time.time(), INTERVAL) + INTERVAL / 2)

    await eventually(claims, what="a first period claimed")
    await quiet()
    before_runs, before = runs._value.get(), len(await claims())

    async def enough() -> bool:
        return len(await claims()) >= before + 8

    await eventually(enough, timeout=20, what="eight more periods")
    await quiet()
    done = await claims()
    assert runs._value.get() - before_runs == len(done) - before  # one run per claimed period
    periods = [c["period"] for c in done]
    assert len(periods) == len(set(periods))
