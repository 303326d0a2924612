"""The region admins' reads of default assignment, and how they grow with data: a page of a
run's proposals (the first, and one deep in the run), the list of runs, and a voucher's latest
assignment (the holder's page), at a few run sizes, side by side in one run, on SQLite.

Matching runs in this process with a nats-server of the benchmark's own; runs and proposals
are written straight into its tables (``--runs`` runs of ``--sizes`` vouchers each, every
voucher in every run, so a voucher's latest assignment is found among ``--runs`` proposals).
Each figure is the median of ``--repeat`` requests through the ASGI app (no network).

    .venv/bin/python bench/assignment_reads.py [--sizes 1000,20000] [--runs 10] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from common import machine  # bench/ is on sys.path when run as a script
from sqlalchemy import insert

from contracts.principal import Principal, Role, encode
from kit.natsserver import NatsServer
from services.matching.main import create_app as matching_app
from services.matching.models import AssignmentProposal, AssignmentRun, OfferingView, VoucherView
from services.matching.settings import Settings as MatchingSettings
from tests.support import DbFactory, running, service_settings

OFFERINGS = 50


async def fill(db: Any, n: int, runs: int) -> list[str]:
    """``runs`` runs over the same ``n`` vouchers; returns the voucher ids."""
    today = date.today()
    vouchers = [str(uuid.uuid4()) for _ in range(n)]
    offerings = [str(uuid.uuid4()) for _ in range(OFFERINGS)]
    async with db.session() as s:
        await s.execute(insert(OfferingView), [dict(
            offering_id=o, provider_id=str(uuid.uuid4()), region="pirkanmaa",
            service_type="career-guidance", title={"fi": f"Palvelu {i}"},
            municipalities=["837"], remote=False, languages=["fi"], unit_price_cents=1000,
            capacity=n, taken=0, next_start=today, status="published", version=1)
            for i, o in enumerate(offerings)])
        for i in range(0, n, 2000):
            await s.execute(insert(VoucherView), [dict(
                voucher_id=v, version=1, state="issued", region="pirkanmaa",
                service_type="career-guidance", holder_kind="person", holder_ref=None,
                home_municipality="837", languages=["fi"], remote_suits=False, profile={},
                value_cents=1000, valid_until=today + timedelta(days=180),
                choice_deadline=today - timedelta(days=1)) for v in vouchers[i:i + 2000]])
        for r in range(runs):
            run_id = str(uuid.uuid4())
            at = datetime.now(UTC) - timedelta(minutes=runs - r)
            await s.execute(insert(AssignmentRun).values(
                run_id=run_id, region="pirkanmaa", seed=r, score_version="bench",
                status="finished", actor="bench", as_of=today, created_at=at, finished_at=at,
                inputs={"vouchers": n}, summary={"vouchers": n, "placed": n}))
            for i in range(0, n, 2000):
                await s.execute(insert(AssignmentProposal), [dict(
                    run_id=run_id, voucher_id=v, offering_id=offerings[k % OFFERINGS],
                    provider_id=None, rank=1 + k % 3, score=100.0, override=False,
                    reason="first_candidate") for k, v in enumerate(vouchers[i:i + 2000],
                                                                    start=i)])
        await s.commit()
    return vouchers


async def median_ms(client: Any, path: str, headers: dict[str, str], repeat: int,
                    params: dict[str, Any] | None = None) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        r = await client.get(path, params=params, headers=headers)
        times.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text[:300]
    return statistics.median(times) * 1000


async def one_size(n: int, runs: int, repeat: int, tmp: Path, nats_url: str
                   ) -> dict[str, float]:
    settings = service_settings(MatchingSettings, DbFactory("sqlite", tmp).new("matching"),
                                nats_url)
    app = matching_app(settings)
    admin = {"X-Seteli-Principal": encode(Principal(sub="admin", role=Role.region_admin,
                                                    region="pirkanmaa"),
                                          settings.principal_secret, ttl_seconds=3600)}
    async with running(app) as client:
        vouchers = await fill(app.state.runtime.db, n, runs)
        latest = (await client.get("/assignments", params={"limit": 1},
                                   headers=admin)).json()["items"][0]["run_id"]
        path = f"/assignments/{latest}/proposals"
        cursor = None
        for _ in range(n // 2 // 200):  # halfway through the run
            cursor = (await client.get(path, params={"limit": 200} | (
                {"cursor": cursor} if cursor else {}), headers=admin)).json()["next_cursor"]
        return {
            "first page (50)": await median_ms(client, path, admin, repeat, {"limit": 50}),
            "page halfway (50)": await median_ms(
                client, path, admin, repeat, {"limit": 50} | ({"cursor": cursor}
                                                              if cursor else {})),
            "list of runs (50)": await median_ms(client, "/assignments", admin, repeat),
            "voucher's latest": await median_ms(
                client, f"/recommendations/{vouchers[n // 2]}/assignment", admin, repeat),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,20000")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        broker = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
        broker.start()
        try:
            results = {}
            for n in sizes:
                sub = tmp / f"n{n}"
                sub.mkdir()
                results[n] = await one_size(n, args.runs, args.repeat, sub, broker.url)
        finally:
            broker.stop()
    print(f"assignment reads, SQLite, {args.runs} runs, median of {args.repeat} ({machine()})")
    names = list(results[sizes[0]])
    print(f"{'vouchers per run':>18} " + " ".join(f"{name:>18}" for name in names))
    for n in sizes:
        print(f"{n:>18} " + " ".join(f"{results[n][name]:>15.2f} ms" for name in names))
    if len(sizes) > 1:
        print(f"{'growth':>18} " + " ".join(
            f"{results[sizes[-1]][name] / results[sizes[0]][name]:>17.2f}x" for name in names))


if __name__ == "__main__":
    asyncio.run(main())
