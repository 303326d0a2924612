"""What one instance of each part needs: resident memory at rest and after load, and CPU
milliseconds per request, from /proc — the figures behind the resource requests in deploy/.

Starts a nats-server, the registry, voucher and matching services and the gateway as uvicorn
processes on 127.0.0.1 (PostgreSQL when ``BENCH_POSTGRES_URL`` is set, one schema per
service; SQLite files otherwise), then drives provider applications (a DB write with its
outbox event, applied by the voucher and matching services' consumers) through the gateway.

    .venv/bin/python bench/footprint.py [--seconds 10] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path

from common import Proc, cpu_seconds, load, machine  # bench/ is on sys.path when run as a script

from kit.natsserver import NatsServer

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="seteli-footprint-"))
    nats = NatsServer(tmp / "nats", log_file=tmp / "nats.log")
    nats.start()
    pg = os.environ.get("BENCH_POSTGRES_URL")
    run = uuid.uuid4().hex[:6]
    env: dict[str, str] = {"NATS_URL": nats.url, "SETELI_ENV": "test"}
    for name in ("registry", "voucher", "matching"):
        prefix = name.upper()
        if pg:
            env[f"{prefix}_DATABASE_URL"] = pg
            env[f"{prefix}_DATABASE_SCHEMA"] = f"footprint_{run}_{name}"
        else:
            env[f"{prefix}_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / name}.db"
        env[f"{prefix}_LOG_LEVEL"] = "WARNING"
    procs = {name: Proc(f"services.{name}.main:app", env, tmp / f"{name}.log")
             for name in ("registry", "voucher", "matching")}
    try:
        for p in procs.values():
            p.start()
        gw_env = env | {f"GATEWAY_{n.upper()}_URL": p.url for n, p in procs.items()}
        gw_env |= {"GATEWAY_LOG_LEVEL": "WARNING", "GATEWAY_RATE_PER_SECOND": "100000",
                   "GATEWAY_RATE_BURST": "100000"}
        procs["gateway"] = Proc("gateway.main:app", gw_env, tmp / "gateway.log").start()
        pids = {n: p.proc.pid for n, p in procs.items() if p.proc is not None}
        rest = {n: rss_mib(pid) for n, pid in pids.items()}
        cpu0 = {n: cpu_seconds(pid) for n, pid in pids.items()}
        result = load(procs["gateway"].url + "/api/v1/providers", seconds=args.seconds,
                      concurrency=args.concurrency, body="provider", seed=7)
        requests = int(result["requests"])
        print(f"{machine()}, load average {os.getloadavg()[0]:.1f}, "
              f"{'PostgreSQL' if pg else 'SQLite'}; POST /api/v1/providers through the "
              f"gateway, {args.concurrency} clients, {args.seconds:.0f} s: {requests} requests, "
              f"{result['req_per_s']:.0f} req/s ({result['errors']} errors), "
              f"p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms")
        print("| part | RSS at rest MiB | RSS after load MiB | CPU ms per request |")
        print("|---|---:|---:|---:|")
        for n, pid in pids.items():
            cpu = (cpu_seconds(pid) - cpu0[n]) * 1000 / max(requests, 1)
            print(f"| {n} | {rest[n]:.0f} | {rss_mib(pid):.0f} | {cpu:.2f} |")
    finally:
        for p in procs.values():
            p.stop()
        nats.stop()


if __name__ == "__main__":
    main()
