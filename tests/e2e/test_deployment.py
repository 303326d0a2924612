"""The deployed shape on loopback, as real processes: PostgreSQL, a 3-node JetStream cluster
(R3 streams), the migrations run once as a one-shot step, the registry, two voucher instances
and the gateway balancing between them. Mid-flow one voucher instance and one broker node are
SIGKILLed, later the VOUCHER stream's leader: requests keep being answered through the gateway
(the dead instance is skipped), every answered issue is kept, and every committed event is on
its stream once and applied once downstream."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kit.broker import NatsLink
from kit.db import Database
from kit.natsserver import NatsCluster, free_port
from services.voucher.models import plumbing as voucher_plumbing
from tests.integration.scaleout.support import (
    applications,
    cluster_ready,
    outbox,
    stream_state,
    watcher,
    watcher_metadata,
)
from tests.processes import ROOT, ServiceProcess
from tests.support import DbFactory, database_of, eventually, sqlite_target

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"),
                       reason="TEST_POSTGRES_URL is not set: the deployed shape runs on "
                       "PostgreSQL"),
]

ISSUE = {"value_cents": 1_000, "holder": {"kind": "person", "henkilotunnus": "010280-952L"},
         "home_municipality": "837", "languages": ["fi"], "remote_suits": True,
         "profile": {"unemployment": "from_3_to_12_months", "education": "basic",
                     "earlier_services": "none"}}


def migrate(service: str, env: dict[str, str]) -> None:
    """The one-shot migration step (the Kubernetes Job, compose's ``migrate``)."""
    subprocess.run([sys.executable, "-m", "services.migrate", "upgrade", service], cwd=ROOT,
                   env={**os.environ, **env}, check=True, timeout=120, capture_output=True)


async def test_the_deployed_shape_loses_nothing(tmp_path: Path) -> None:
    cluster = NatsCluster(tmp_path / "nats")
    dbs = DbFactory("postgresql", tmp_path)
    reg_t, vou_t = dbs.new("registry"), dbs.new("voucher")
    env = {**reg_t.env("REGISTRY"), **vou_t.env("VOUCHER"), "NATS_URL": cluster.url,
           "REGISTRY_STREAM_REPLICAS": "3", "VOUCHER_STREAM_REPLICAS": "3",
           "REGISTRY_LOG_LEVEL": "WARNING", "VOUCHER_LOG_LEVEL": "WARNING",
           "GATEWAY_LOG_LEVEL": "WARNING", "VOUCHER_OUTBOX_POLL_SECONDS": "0.1",
           "REGISTRY_OUTBOX_POLL_SECONDS": "0.1"}
    procs: list[ServiceProcess] = []
    link: NatsLink | None = None
    vou_db = Database(vou_t.url, schema=vou_t.schema)
    try:
        cluster.start()
        await cluster_ready(cluster.url)
        migrate("registry", env)
        migrate("voucher", env)
        registry = ServiceProcess("services.registry.main:app", env, tmp_path / "registry.log")
        a = ServiceProcess("services.voucher.main:app", env, tmp_path / "voucher-a.log")
        b = ServiceProcess("services.voucher.main:app", env, tmp_path / "voucher-b.log")
        procs += [registry, a, b]
        for p in procs:
            p.start()
        gateway = ServiceProcess("gateway.main:app", env | {
            "GATEWAY_REGISTRY_URL": registry.url, "GATEWAY_VOUCHER_URL": f"{a.url},{b.url}",
            "GATEWAY_MATCHING_URL": f"http://127.0.0.1:{free_port()}",
            "GATEWAY_UPSTREAM_HEALTH_SECONDS": "0.5", "GATEWAY_RATE_PER_SECOND": "10000",
            "GATEWAY_RATE_BURST": "10000"}, tmp_path / "gateway.log")
        procs.append(gateway.start(wait_for="/healthz"))  # matching is not run here

        async with httpx.AsyncClient(base_url=gateway.url + "/api/v1", timeout=15) as api, \
                database_of(watcher_metadata, sqlite_target(tmp_path, "watcher")) as wdb:
            link = NatsLink(cluster.url, name="watcher", replicas=3)
            downstream = watcher(wdb, link)
            link.start()
            downstream.start()
            token = (await api.post(gateway.url + "/auth/dev-token", json={
                "role": "region_admin", "region": "pirkanmaa"})).json()
            admin = {"Authorization": f"Bearer {token['access_token']}"}
            start = date.today().replace(day=1)

            async def budget() -> dict[str, Any] | None:
                r = await api.post("/budgets", headers=admin, json={
                    "service_type": "job-search-coaching", "period_start": start.isoformat(),
                    "period_end": (start + timedelta(days=365)).isoformat(),
                    "funders": [{"funder": "region", "amount_cents": 1_000_000}]})
                return r.json() if r.status_code == 201 else None  # the catalogue not in yet

            b_id = (await eventually(budget, timeout=30, what="a budget"))["id"]
            created: list[str] = []
            refused: list[int] = []

            async def issue(n: int) -> None:
                for _ in range(n):
                    try:
                        r = await api.post("/vouchers", headers=admin,
                                           json=ISSUE | {"budget_id": b_id})
                    except httpx.HTTPError:
                        refused.append(0)
                        continue
                    if r.status_code == 201:
                        created.append(r.json()["id"])
                    else:
                        refused.append(r.status_code)

            workers = [asyncio.create_task(issue(10)) for _ in range(4)]

            async def some() -> bool:
                return len(created) >= 12

            await eventually(some, timeout=30, what="issues through the gateway")
            a.sigkill()  # one voucher instance dies mid-flow
            cluster.kill(0)  # and one broker node
            await asyncio.gather(*workers)
            assert len(refused) <= 4, refused  # at most those in flight on the dead instance
            unanswered = len(refused)
            cluster.start_node(0)
            await cluster_ready(cluster.url)

            async def replicas_current() -> bool:
                _, _, replicas = await stream_state(cluster.url, "VOUCHER")
                return len(replicas) == 2 and all(current for _, current in replicas)

            await eventually(replicas_current, timeout=30, what="VOUCHER replicas current")
            _, leader, _ = await stream_state(cluster.url, "VOUCHER")
            cluster.kill(cluster.index_of(leader))  # later the stream's leader
            refused.clear()
            await issue(10)
            assert refused == []  # the dead instance is skipped: every issue answered

            async def published() -> bool:
                return (await outbox(vou_db, voucher_plumbing))[1] == 0

            await eventually(published, timeout=30, what="the outbox published")
            events, _ = await outbox(vou_db, voucher_plumbing)

            async def all_applied() -> bool:
                return (await applications(wdb))[0] >= events

            await eventually(all_applied, timeout=30, what="every event applied downstream")
            assert await applications(wdb) == (events, events)  # each once
            assert (await stream_state(cluster.url, "VOUCHER"))[0] == events
            r = await api.get("/vouchers", params={"limit": 200}, headers=admin)
            kept = {v["id"] for v in r.json()["items"]}
            assert set(created) <= kept  # every answered issue is kept
            # an issue the dead instance committed but could not answer is kept too (a retry
            # with its Idempotency-Key would get it back); nothing else
            assert len(kept - set(created)) <= unanswered
            await downstream.stop()
    finally:
        if link is not None:
            await link.close()
        for p in procs:
            p.stop()
        cluster.stop()
        await vou_db.dispose()
        await dbs.cleanup()
