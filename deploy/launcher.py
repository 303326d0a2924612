"""``make run``: the whole of Seteli on one machine.

Starts a local nats-server with JetStream (unless ``NATS_URL`` is set), the registry, voucher and
matching services (each migrates its SQLite database under ``var/`` on start) and the gateway;
waits until every part answers ``/readyz``; loads the demo data; prints the URLs. Ctrl-C,
SIGTERM or SIGHUP (the terminal closed) stops everything it started; and on Linux every child
dies with the launcher even when the launcher is killed outright (``PR_SET_PDEATHSIG``). A
second launcher on the same ``var/`` is refused: the NATS store is locked while in use.

Ports: ``GATEWAY_PORT`` (8000), ``REGISTRY_PORT`` (8001), ``VOUCHER_PORT`` (8002),
``MATCHING_PORT`` (8003), ``SETELI_NATS_PORT`` (a free one). A default port that is taken is
replaced by a free one (and said so); a port you set explicitly must be free.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kit.natsserver import NatsServer, StoreInUse, die_with_parent, free_port, port_open
from kit.settings import DEV_PRINCIPAL_SECRET

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass
class Part:
    name: str
    app: str
    port_env: str
    default_port: int
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def choose_port(part: Part) -> int:
    explicit = os.environ.get(part.port_env)
    if explicit:
        port = int(explicit)
        if port_open(HOST, port):
            sys.exit(f"{part.port_env}={port}: that port is already in use on {HOST}")
        return port
    if port_open(HOST, part.default_port):
        port = free_port(HOST)
        print(f"  port {part.default_port} is taken; {part.name} uses {port} instead "
              f"(set {part.port_env} to choose)", flush=True)
        return port
    return part.default_port


def start(part: Part, env: dict[str, str], log_dir: Path) -> None:
    log = open(log_dir / f"{part.name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    part.proc = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", part.app,
            "--host", HOST, "--port", str(part.port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--timeout-graceful-shutdown", "5",
        ],
        cwd=ROOT,
        env={**env, **part.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # only prctl: safe in the child
    )


def say(text: str, *, error: bool = False) -> None:
    """Print, unless the terminal is gone (after SIGHUP): stopping must go on regardless."""
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr if error else sys.stdout, flush=True)


async def wait_ready(parts: list[Part], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        pending = list(parts)
        while pending and time.monotonic() < deadline:
            for part in list(pending):
                assert part.proc is not None
                if part.proc.poll() is not None:
                    raise RuntimeError(f"{part.name} exited with {part.proc.returncode}")
                try:
                    if (await client.get(part.url + "/readyz")).status_code == 200:
                        pending.remove(part)
                except httpx.HTTPError:
                    pass
            await asyncio.sleep(0.2)
        if pending:
            raise TimeoutError("not ready in time: " + ", ".join(p.name for p in pending))


async def load_demo(registry_url: str, secret: str) -> None:
    from services.registry import demo

    async with httpx.AsyncClient(base_url=registry_url, timeout=30.0) as client:
        await demo.load(client, secret)


async def demo_voucher(voucher_url: str, secret: str) -> None:
    """A budget of Pirkanmaa and a voucher of the demo person 010280-952L (dev login), so that
    matching has something to recommend. Idempotency keys: a restart makes no second one."""
    from datetime import date, timedelta

    from contracts.principal import Principal, Role, encode

    admin = {"X-Seteli-Principal": encode(Principal(sub="demo-admin", role=Role.region_admin,
                                                    region="pirkanmaa"), secret, 600)}
    start = date.today().replace(day=1)
    async with httpx.AsyncClient(base_url=voucher_url, timeout=30.0) as client:
        for _ in range(100):  # the catalogue reaches the voucher service through events
            r = await client.post("/budgets", headers=admin | {"Idempotency-Key": "demo-budget"},
                                  json={"service_type": "job-search-coaching",
                                        "period_start": start.isoformat(),
                                        "period_end": (start + timedelta(days=365)).isoformat(),
                                        "funders": [{"funder": "region",
                                                     "amount_cents": 50_000_000}]})
            if r.status_code == 201:
                break
            await asyncio.sleep(0.2)
        else:
            print(f"demo voucher not made: {r.status_code} {r.text[:200]}", flush=True)
            return
        await client.post("/vouchers", headers=admin | {"Idempotency-Key": "demo-voucher"},
                          json={"budget_id": r.json()["id"],
                                "holder": {"kind": "person", "henkilotunnus": "010280-952L"},
                                "value_cents": 150_000, "home_municipality": "837",
                                "languages": ["fi"], "remote_suits": True})


def stop_all(parts: list[Part], nats: NatsServer | None) -> None:
    for part in reversed(parts):
        if part.proc and part.proc.poll() is None:
            part.proc.terminate()
    deadline = time.monotonic() + 15
    for part in parts:
        if part.proc is None:
            continue
        try:
            part.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            part.proc.kill()
            part.proc.wait(5)
    if nats is not None:
        nats.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
    parser.add_argument("--var", default=os.environ.get("SETELI_VAR_DIR", str(ROOT / "var")),
                        help="directory for databases, NATS storage and logs")
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    args = parser.parse_args()

    var = Path(args.var).resolve()
    logs = var / "log"
    logs.mkdir(parents=True, exist_ok=True)

    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)

    say("Starting Seteli …")
    nats: NatsServer | None = None
    nats_url = os.environ.get("NATS_URL")
    if not nats_url:
        port = int(os.environ.get("SETELI_NATS_PORT", "0")) or None
        nats = NatsServer(var / "nats", port=port, log_file=logs / "nats.log")
        try:
            nats.start()
        except StoreInUse as exc:
            say(f"Seteli did not start: {exc} (is another `make run` using {var}?)",
                error=True)
            return 1
        nats_url = nats.url

    env = dict(os.environ)
    env.setdefault("SETELI_ENV", "development")
    env["NATS_URL"] = nats_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    secret = env.setdefault("SETELI_PRINCIPAL_SECRET", DEV_PRINCIPAL_SECRET)

    services = [
        Part("registry", "services.registry.main:app", "REGISTRY_PORT", 8001),
        Part("voucher", "services.voucher.main:app", "VOUCHER_PORT", 8002),
        Part("matching", "services.matching.main:app", "MATCHING_PORT", 8003),
    ]
    gateway = Part("gateway", "gateway.main:app", "GATEWAY_PORT", 8000)
    parts = [*services, gateway]
    for part in parts:
        part.port = choose_port(part)
    for svc in services:
        prefix = svc.name.upper()
        env.setdefault(f"{prefix}_DATABASE_URL", f"sqlite+aiosqlite:///{var / (svc.name + '.db')}")
        gateway.env[f"GATEWAY_{prefix}_URL"] = svc.url

    try:
        for part in services:
            start(part, env, logs)
        asyncio.run(wait_ready(services, args.ready_timeout))
        start(gateway, env, logs)
        asyncio.run(wait_ready([gateway], args.ready_timeout))
        if not args.no_demo:
            asyncio.run(load_demo(services[0].url, secret))
            asyncio.run(demo_voucher(services[1].url, secret))
    except Exception as exc:
        say(f"Seteli did not start: {exc}. Logs are in {logs}", error=True)
        stop_all(parts, nats)
        return 1

    say(
        "\nSeteli is running:\n"
        f"  gateway    {gateway.url}   (API docs {gateway.url}/docs, "
        f"demo login {gateway.url}/auth/dev-login)\n"
        f"  registry   {services[0].url}\n"
        f"  voucher    {services[1].url}\n"
        f"  matching   {services[2].url}\n"
        f"  nats       {nats_url}\n"
        f"  data       {var}   logs {logs}\n"
        "Press Ctrl-C to stop.",
    )
    try:
        while not stopping:
            for part in parts:
                if part.proc and part.proc.poll() is not None:
                    say(f"{part.name} exited ({part.proc.returncode}); stopping. "
                        f"See {logs / (part.name + '.log')}", error=True)
                    stopping = True
            time.sleep(0.3)
    finally:
        say("Stopping Seteli …")
        stop_all(parts, nats)
        say("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
