"""The gateway hop: a DB-backed POST (a provider application, SQLite) straight to the registry
and through the gateway, side by side in one run, for each upstream client the gateway offers.

Everything on 127.0.0.1: its own nats-server, the registry and the gateway as uvicorn processes
(uvloop, httptools, no access log), the load from a separate process. Goal: through the gateway
>= 0.8x the direct throughput (16 concurrent clients, server saturated; the base is the mean
of a direct run before and after) and <= 5 ms added p50 (one client at a time, so that the
figure is the hop's own cost and not queueing).

    .venv/bin/python bench/gateway_hop.py [--seconds 8] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import Proc, load, machine  # bench/ is on sys.path when run as a script

from kit.natsserver import NatsServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--clients", default="aiohttp,httpx")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="seteli-hop-") as tmp_s:
        tmp = Path(tmp_s)
        nats = NatsServer(tmp / "nats")
        nats.start()
        env = {"NATS_URL": nats.url, "REGISTRY_LOG_LEVEL": "WARNING",
               "REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'registry.db'}"}
        registry = Proc("services.registry.main:app", env, tmp / "registry.log")
        procs = [registry]
        try:
            registry.start()
            seed = 10

            def measure(url: str) -> tuple[dict[str, float], dict[str, float]]:
                nonlocal seed
                seed += 2
                single = load(url, seconds=args.seconds / 2, concurrency=1, body="provider",
                              seed=seed)
                loaded = load(url, seconds=args.seconds, concurrency=args.concurrency,
                              body="provider", seed=seed + 1)
                return single, loaded

            rows.append(("direct to the registry", *measure(registry.url + "/providers")))
            for kind in args.clients.split(","):
                gateway = Proc("gateway.main:app", {
                    "GATEWAY_REGISTRY_URL": registry.url, "GATEWAY_UPSTREAM_CLIENT": kind,
                    "GATEWAY_LOG_LEVEL": "WARNING", "GATEWAY_RATE_PER_SECOND": "100000",
                    "GATEWAY_RATE_BURST": "100000",
                    # readiness of the services it does not need here is not waited for
                    "GATEWAY_VOUCHER_URL": registry.url, "GATEWAY_MATCHING_URL": registry.url,
                }, tmp / f"gateway-{kind}.log")
                procs.append(gateway.start())
                rows.append((f"through the gateway ({kind})",
                             *measure(gateway.url + "/api/v1/providers")))
                gateway.stop()
            rows.append(("direct again (drift check)", *measure(registry.url + "/providers")))
        finally:
            for p in procs:
                p.stop()
            nats.stop()

    base_single = (rows[0][1]["p50_ms"] + rows[-1][1]["p50_ms"]) / 2
    base_rps = (rows[0][2]["req_per_s"] + rows[-1][2]["req_per_s"]) / 2
    print(f"\nGateway hop, POST /providers on SQLite — {machine()}; one client, then "
          f"{args.concurrency} concurrent clients")
    for name, single, loaded in rows:
        extra = ""
        if name.startswith("through"):
            ratio = loaded["req_per_s"] / base_rps
            added = single["p50_ms"] - base_single
            verdict = "met" if ratio >= 0.8 and added <= 5 else "NOT met"
            extra = f"  = {ratio:.2f}x direct, +{added:.2f} ms p50 (goal: {verdict})"
        print(f"  {name:<31} 1 client p50 {single['p50_ms']:>6.2f} ms | "
              f"{loaded['req_per_s']:>5.0f} req/s p50 {loaded['p50_ms']:>6.1f} ms "
              f"p99 {loaded['p99_ms']:>6.1f} ms errors {loaded['errors']}{extra}")

if __name__ == "__main__":
    main()
