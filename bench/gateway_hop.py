"""The gateway hop: a DB-backed POST (a provider application, SQLite) straight to the registry
and through the gateway, side by side in one run, for each upstream client the gateway can use.

Everything on 127.0.0.1: its own nats-server, the registry and one gateway per client as uvicorn
processes (uvloop, httptools, no access log), the load from a separate process
(bench/loadgen.py). Goal: through the gateway >= 0.8x the direct throughput (16 concurrent
clients, server saturated) and <= 5 ms added p50 (one client at a time, so that the figure is
the hop's own cost and not queueing).

The windows alternate: direct, a gateway, direct, another gateway, …, direct (the gateways in
a rotating order, ``--rounds`` times), and every gateway window is compared with the mean of
the direct windows just before and just after it; the summary is the median over rounds. That
keeps a shared, noisy machine and the growing database from favouring any one target. CPU
milliseconds per request of the gateway and of the registry process (from /proc) show where the
time goes.

    .venv/bin/python bench/gateway_hop.py [--rounds 3] [--seconds 6] [--clients h1,aiohttp,httpx]

Clients: h1 (the gateway's own client on httptools), aiohttp, httpx (with sniffio), and
aiosonic when installed (a candidate only, run from bench/hop_candidates.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import Proc, load, machine  # bench/ is on sys.path when run as a script

from kit.natsserver import NatsServer

BUILT_IN = ("h1", "aiohttp", "httpx")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Target:
    name: str
    url: str
    proc: Proc | None = None  # the gateway process, if any
    single: list[dict[str, Any]] = field(default_factory=list)
    loaded: list[dict[str, Any]] = field(default_factory=list)
    gateway_cpu_ms: list[float] = field(default_factory=list)
    registry_cpu_ms: list[float] = field(default_factory=list)
    brackets: list[int] = field(default_factory=list)  # index of the direct window before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per loaded measurement")
    parser.add_argument("--single-seconds", type=float, default=2.0,
                        help="per one-client measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--clients", default="h1,aiohttp,httpx,aiosonic")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    if "aiosonic" in clients and importlib.util.find_spec("aiosonic") is None:
        print("aiosonic is not installed: left out (pip install aiosonic to measure it)")
        clients.remove("aiosonic")
    sniffio = importlib.util.find_spec("sniffio") is not None
    if 10 + 4 * (args.rounds * len(clients) + 1) > 99:
        # bench/loadgen.py makes business IDs from the seed; seeds above 99 would repeat them
        raise SystemExit("too many windows: lower --rounds or the number of clients")
    load_before = loadavg()

    with tempfile.TemporaryDirectory(prefix="seteli-hop-") as tmp_s:
        tmp = Path(tmp_s)
        nats = NatsServer(tmp / "nats")
        nats.start()
        env = {"NATS_URL": nats.url, "REGISTRY_LOG_LEVEL": "WARNING",
               "REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'registry.db'}"}
        registry = Proc("services.registry.main:app", env, tmp / "registry.log")
        procs: list[Proc] = [registry]
        try:
            registry.start()
            assert registry.proc is not None
            reg_pid = registry.proc.pid
            direct = Target("direct to the registry", registry.url + "/providers")
            targets = [direct]
            for kind in clients:
                app = "gateway.main:app" if kind in BUILT_IN else "bench.hop_candidates:app"
                gateway = Proc(app, {
                    "GATEWAY_REGISTRY_URL": registry.url, "GATEWAY_UPSTREAM_CLIENT":
                    kind if kind in BUILT_IN else "h1", "HOP_CANDIDATE": kind,
                    "GATEWAY_LOG_LEVEL": "WARNING", "GATEWAY_RATE_PER_SECOND": "100000",
                    "GATEWAY_RATE_BURST": "100000",
                    # readiness of the services it does not need here is not waited for
                    "GATEWAY_VOUCHER_URL": registry.url, "GATEWAY_MATCHING_URL": registry.url,
                }, tmp / f"gateway-{kind}.log")
                procs.append(gateway.start())
                targets.append(Target(f"through the gateway ({kind})",
                                      gateway.url + "/api/v1/providers", gateway))
            seed = 10

            def measure(t: Target) -> None:
                nonlocal seed
                seed += 2
                t.single.append(load(t.url, seconds=args.single_seconds, concurrency=1,
                                     body="provider", seed=seed))
                gw_pid = t.proc.proc.pid if t.proc and t.proc.proc else None
                reg0 = cpu_seconds(reg_pid)
                gw0 = cpu_seconds(gw_pid) if gw_pid else 0.0
                result = load(t.url, seconds=args.seconds, concurrency=args.concurrency,
                              body="provider", seed=seed + 1)
                n = max(1, result["requests"])
                t.registry_cpu_ms.append((cpu_seconds(reg_pid) - reg0) * 1000 / n)
                if gw_pid:
                    t.gateway_cpu_ms.append((cpu_seconds(gw_pid) - gw0) * 1000 / n)
                t.loaded.append(result)
                print(f"  {t.name:<31} 1 client p50 {t.single[-1]['p50_ms']:>6.2f} ms | "
                      f"{result['req_per_s']:>5.0f} req/s errors {result['errors']}", flush=True)

            # direct, gateway, direct, gateway, …, direct: each gateway window is compared
            # with the direct windows just before and just after it
            gateways = targets[1:]
            for r in range(args.rounds):
                for t in gateways[r % len(gateways):] + gateways[:r % len(gateways)]:
                    measure(direct)
                    before = len(direct.loaded) - 1
                    measure(t)
                    t.brackets.append(before)
            measure(direct)
        finally:
            for p in procs:
                p.stop()
            nats.stop()

    print(f"\nGateway hop, POST /providers on SQLite — {machine()}; load average "
          f"{load_before} before, {loadavg()} after; sniffio "
          f"{'installed' if sniffio else 'MISSING'}; medians of {args.rounds} rounds: one "
          f"client, then {args.concurrency} concurrent clients; each gateway window against "
          f"the mean of the direct windows just before and after it")
    print(f"  {'path':<31} {'1 client p50':>12} | {'req/s':>5} {'p50':>7} {'p99':>7} | "
          f"{'CPU ms/req gw':>13} {'registry':>8} | vs direct around it")
    for t in targets:
        med = statistics.median
        line = (f"  {t.name:<31} {med(s['p50_ms'] for s in t.single):>9.2f} ms | "
                f"{med(x['req_per_s'] for x in t.loaded):>5.0f} "
                f"{med(x['p50_ms'] for x in t.loaded):>5.1f}ms "
                f"{med(x['p99_ms'] for x in t.loaded):>5.1f}ms | "
                f"{med(t.gateway_cpu_ms) if t.gateway_cpu_ms else 0:>13.2f} "
                f"{med(t.registry_cpu_ms):>8.2f} |")
        errors = sum(x["errors"] for x in t.loaded + t.single)
        if t is not direct:
            ratios, added = [], []
            for x, s, i in zip(t.loaded, t.single, t.brackets, strict=True):
                around = (direct.loaded[i]["req_per_s"] + direct.loaded[i + 1]["req_per_s"]) / 2
                ratios.append(x["req_per_s"] / around)
                added.append(s["p50_ms"] - (direct.single[i]["p50_ms"]
                                            + direct.single[i + 1]["p50_ms"]) / 2)
            ratio, extra = med(ratios), med(added)
            verdict = "met" if ratio >= 0.8 and extra <= 5 and not errors else "NOT met"
            line += (f" {ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f}), "
                     f"{extra:+.2f} ms p50 (goal: {verdict})")
        if errors:
            line += f"  errors {errors}"
        print(line)


if __name__ == "__main__":
    main()
