"""An ASGI app as a real uvicorn process on loopback (uvloop, httptools, no access log): for
the test suites that kill processes and for the benchmarks (bench/ imports it from here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kit.natsserver import free_port

ROOT = Path(__file__).resolve().parent.parent  # the repository: uvicorn imports the app from there


class ServiceProcess:
    def __init__(self, app: str, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.app = app
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait_for: str = "/readyz", timeout: float = 60.0) -> ServiceProcess:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", self.app, "--host", "127.0.0.1",
                 "--port", str(self.port), "--loop", "uvloop", "--http", "httptools",
                 "--no-access-log", "--log-level", "warning", "--workers", str(self.workers)],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} exited: see {self.log}")
            try:
                if httpx.get(self.url + wait_for, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"{self.app} not answering {wait_for}: see {self.log}")

    def sigkill(self) -> None:
        """Kill the process group at once: no shutdown hooks, no goodbye."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.sigkill()
