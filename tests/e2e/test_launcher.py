"""``make run`` as a user runs it: the launcher brings all four parts up with /readyz 200, and
Ctrl-C (SIGINT), closing the terminal (SIGHUP to the whole process group, the
terminal gone) or killing the launcher outright (SIGKILL: its children die with it) leaves no
process and no listening port behind. A second launcher on the same data is refused."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kit.natsserver import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _pids_mentioning(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmd or marker in env:
            pids.append(int(entry.name))
    return pids


# (SIGTERM goes through the same handler as SIGINT and SIGHUP)
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
                         ids=["ctrl-c", "terminal-closed", "launcher-killed"])
def test_launcher_starts_everything_and_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    ports = {name: free_port() for name in ("GATEWAY", "REGISTRY", "VOUCHER", "MATCHING")}
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.pop("NATS_URL", None)
    env.update({f"{name}_PORT": str(port) for name, port in ports.items()})
    env["SETELI_VAR_DIR"] = str(tmp_path / "var")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "launcher.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as under a terminal
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(output)
        assert "Seteli is running" in text, text
        nats_port = int(re.search(r"nats\s+nats://127\.0\.0\.1:(\d+)", text).group(1))  # type: ignore[union-attr]

        for name, port in ports.items():
            r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert r.status_code == 200, (name, r.text)
            assert r.headers["x-request-id"]
        r = httpx.get(f"http://127.0.0.1:{ports['GATEWAY']}/api/v1/offerings", timeout=5)
        assert r.status_code == 200, r.text
        assert r.json()["total"] >= 9  # the demo data was loaded
        assert all(o["description"].get("sv") and o["title"].get("sv")
                   for o in r.json()["items"])  # demo texts in Finnish, Swedish and English

        def found(q: str) -> set[str]:
            r = httpx.get(f"http://127.0.0.1:{ports['GATEWAY']}/api/v1/offerings",
                          params={"q": q}, timeout=5)
            return {o["id"] for o in r.json()["items"]}

        assert found("Tampere") and found("Tammerfors") == found("Tampere")
        r = httpx.get(f"http://127.0.0.1:{ports['GATEWAY']}/auth/dev-login", timeout=5)
        assert r.status_code == 200 and "Polku Valmennus Oy" in r.text
        if stop_signal == signal.SIGHUP:
            again = subprocess.run([sys.executable, str(ROOT / "deploy" / "launcher.py")],
                                   cwd=ROOT, env=env, capture_output=True, text=True,
                                   timeout=60)
            assert again.returncode == 1 and "in use" in again.stderr, again.stderr
    finally:
        if stop_signal == signal.SIGHUP:
            assert proc.stdout is not None
            proc.stdout.close()  # the terminal is gone: printing fails from now on
            os.killpg(proc.pid, signal.SIGHUP)
        else:
            proc.send_signal(stop_signal)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == (-signal.SIGKILL if stop_signal == signal.SIGKILL else 0)
    deadline = time.monotonic() + 30  # after SIGKILL the children stop on their own
    while time.monotonic() < deadline and _pids_mentioning(str(tmp_path)):
        time.sleep(0.2)
    assert _pids_mentioning(str(tmp_path)) == []
    for port in [*ports.values(), nats_port]:
        assert not port_open("127.0.0.1", port), f"port {port} still listening"
