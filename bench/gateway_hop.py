"""The gateway hop: a DB-backed POST (a provider application, SQLite) straight to the registry
and through the gateway, side by side in one run, for each upstream client the gateway can use;
then the same against the cheapest possible upstream, where the gateway's own cost is most of
what is measured.

Everything on 127.0.0.1: its own nats-server, the registry, a bare echo app
(bench/hop_echo.py) and one gateway per client as uvicorn processes (uvloop, httptools, no
access log), the load from a separate process (bench/loadgen.py). Goal: through the gateway
>= 0.8x the direct throughput (16 concurrent clients, server saturated) and <= 5 ms added p50
(one client at a time, so that the figure is the hop's own cost and not queueing).

The windows alternate: direct, a gateway, direct, another gateway, …, direct (the gateways in
a rotating order, ``--rounds`` times), and every gateway window is compared with the mean of
the direct windows just before and just after it; the summary is the median over rounds. That
keeps a shared, noisy machine and the growing database from favouring any one target. CPU
milliseconds per request of the gateway and of the upstream process (from /proc) show where the
time goes; on a busy machine they are steadier than throughput.

    .venv/bin/python bench/gateway_hop.py [--rounds 3] [--seconds 4] [--clients h1,aiohttp,httpx]

Clients: h1 (the gateway's own client on httptools), aiohttp, httpx (with sniffio), and
aiosonic when installed (a candidate only, run from bench/hop_candidates.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import Proc, cpu_seconds, load, machine  # bench/ is on sys.path when run as a script

from kit.natsserver import NatsServer

BUILT_IN = ("h1", "aiohttp", "httpx")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Target:
    name: str
    url: str
    pid: int | None = None  # the gateway process, if any
    single: list[dict[str, Any]] = field(default_factory=list)
    loaded: list[dict[str, Any]] = field(default_factory=list)
    gateway_cpu_ms: list[float] = field(default_factory=list)
    upstream_cpu_ms: list[float] = field(default_factory=list)
    brackets: list[int] = field(default_factory=list)  # index of the direct window before


@dataclass
class Series:
    title: str
    upstream_pid: int
    direct: Target
    gateways: list[Target]
    unique_bodies: bool = True  # the registry refuses a business ID twice; the echo app not
    goal: bool = True  # the goal is for the real service; the echo series is a diagnosis


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seed = 10

    def measure(self, t: Target, upstream_pid: int, *, unique: bool) -> None:
        seed = 1
        if unique:
            self.seed += 2
            seed = self.seed
            if seed > 98:
                # bench/loadgen.py makes business IDs from the seed; above 99 they repeat
                raise SystemExit("too many windows: lower --rounds or the number of clients")
        args = self.args
        t.single.append(
            load(t.url, seconds=args.single_seconds, concurrency=1, body="provider", seed=seed)
        )
        up0 = cpu_seconds(upstream_pid)
        gw0 = cpu_seconds(t.pid) if t.pid else 0.0
        result = load(
            t.url,
            seconds=args.seconds,
            concurrency=args.concurrency,
            body="provider",
            seed=seed + 1,
        )
        n = max(1, result["requests"])
        t.upstream_cpu_ms.append((cpu_seconds(upstream_pid) - up0) * 1000 / n)
        if t.pid:
            t.gateway_cpu_ms.append((cpu_seconds(t.pid) - gw0) * 1000 / n)
        t.loaded.append(result)
        print(
            f"  {t.name:<34} 1 client p50 {t.single[-1]['p50_ms']:>6.2f} ms | "
            f"{result['req_per_s']:>6.0f} req/s errors {result['errors']}",
            flush=True,
        )

    def run(self, series: Series) -> None:
        """direct, gateway, direct, gateway, …, direct."""
        print(f"{series.title}:", flush=True)
        gws = series.gateways
        for r in range(self.args.rounds):
            for t in gws[r % len(gws) :] + gws[: r % len(gws)]:
                self.measure(series.direct, series.upstream_pid, unique=series.unique_bodies)
                t.brackets.append(len(series.direct.loaded) - 1)
                self.measure(t, series.upstream_pid, unique=series.unique_bodies)
        self.measure(series.direct, series.upstream_pid, unique=series.unique_bodies)


def report(series: Series) -> None:
    med = statistics.median
    direct = series.direct
    print(f"\n{series.title}")
    print(
        f"  {'path':<34} {'1 client p50':>12} | {'req/s':>6} {'p50':>7} {'p99':>7} | "
        f"{'CPU ms/req: gw':>14} {'upstream':>8} | vs direct around it"
    )
    for t in [direct, *series.gateways]:
        line = (
            f"  {t.name:<34} {med(s['p50_ms'] for s in t.single):>9.2f} ms | "
            f"{med(x['req_per_s'] for x in t.loaded):>6.0f} "
            f"{med(x['p50_ms'] for x in t.loaded):>5.1f}ms "
            f"{med(x['p99_ms'] for x in t.loaded):>5.1f}ms | "
            f"{med(t.gateway_cpu_ms) if t.gateway_cpu_ms else 0:>14.2f} "
            f"{med(t.upstream_cpu_ms):>8.2f} |"
        )
        errors = sum(x["errors"] for x in t.loaded + t.single)
        if t is not direct:
            ratios, added = [], []
            for x, s, i in zip(t.loaded, t.single, t.brackets, strict=True):
                around = (direct.loaded[i]["req_per_s"] + direct.loaded[i + 1]["req_per_s"]) / 2
                ratios.append(x["req_per_s"] / around)
                added.append(
                    s["p50_ms"] - (direct.single[i]["p50_ms"] + direct.single[i + 1]["p50_ms"]) / 2
                )
            ratio, extra = med(ratios), med(added)
            line += f" {ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f}), {extra:+.2f} ms p50"
            if series.goal:
                met = ratio >= 0.8 and extra <= 5 and not errors
                line += f" (goal: {'met' if met else 'NOT met'})"
        if errors:
            line += f"  errors {errors}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="per loaded measurement")
    parser.add_argument(
        "--single-seconds", type=float, default=2.0, help="per one-client measurement"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--clients", default="h1,aiohttp,httpx,aiosonic")
    parser.add_argument("--no-echo", action="store_true", help="only the DB-backed POST")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    if "aiosonic" in clients and importlib.util.find_spec("aiosonic") is None:
        print("aiosonic is not installed: left out (pip install aiosonic to measure it)")
        clients.remove("aiosonic")
    sniffio = importlib.util.find_spec("sniffio") is not None
    load_before = loadavg()
    bench = Bench(args)
    done: list[Series] = []

    with tempfile.TemporaryDirectory(prefix="seteli-hop-") as tmp_s:
        tmp = Path(tmp_s)
        nats = NatsServer(tmp / "nats")
        nats.start()
        env = {
            "NATS_URL": nats.url,
            "REGISTRY_LOG_LEVEL": "WARNING",
            "REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'registry.db'}",
        }
        registry = Proc("services.registry.main:app", env, tmp / "registry.log")
        echo = Proc("bench.hop_echo:app", {}, tmp / "echo.log")
        procs: list[Proc] = [registry, echo]
        try:
            registry.start()
            echo.start()
            gateways: dict[str, Proc] = {}
            for kind in clients:
                app = "gateway.main:app" if kind in BUILT_IN else "bench.hop_candidates:app"
                gateways[kind] = Proc(
                    app,
                    {
                        "GATEWAY_REGISTRY_URL": registry.url,
                        "GATEWAY_UPSTREAM_CLIENT": kind if kind in BUILT_IN else "h1",
                        "HOP_CANDIDATE": kind,
                        "GATEWAY_LOG_LEVEL": "WARNING",
                        "GATEWAY_RATE_PER_SECOND": "100000",
                        "GATEWAY_RATE_BURST": "100000",
                        # /api/v1/vouchers goes to the echo app; matching is not used here
                        "GATEWAY_VOUCHER_URL": echo.url,
                        "GATEWAY_MATCHING_URL": echo.url,
                    },
                    tmp / f"gateway-{kind}.log",
                )
                procs.append(gateways[kind].start())
            assert registry.proc is not None and echo.proc is not None

            def through(path: str) -> list[Target]:
                return [
                    Target(
                        f"through the gateway ({kind})",
                        p.url + path,
                        p.proc.pid if p.proc else None,
                    )
                    for kind, p in gateways.items()
                ]

            plan = [
                Series(
                    f"POST /providers on SQLite (registry) — {machine()}",
                    registry.proc.pid,
                    Target("direct to the registry", registry.url + "/providers"),
                    through("/api/v1/providers"),
                )
            ]
            if not args.no_echo:
                plan.append(
                    Series(
                        "POST to a bare echo app (the gateway's own cost)",
                        echo.proc.pid,
                        Target("direct to the echo app", echo.url + "/vouchers"),
                        through("/api/v1/vouchers"),
                        unique_bodies=False,
                        goal=False,
                    )
                )
            for series in plan:
                bench.run(series)
                done.append(series)
        finally:
            for p in procs:
                p.stop()
            nats.stop()

    print(
        f"\nGateway hop — load average {load_before} before, {loadavg()} after; sniffio "
        f"{'installed' if sniffio else 'MISSING'}; medians of {args.rounds} rounds: one "
        f"client ({args.single_seconds:g} s), then {args.concurrency} concurrent clients "
        f"({args.seconds:g} s); each gateway window against the mean of the direct windows "
        f"just before and after it"
    )
    for series in done:
        report(series)


if __name__ == "__main__":
    main()
