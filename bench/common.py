"""Shared pieces of the benchmarks: real service processes and the load generator process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kit.natsserver import free_port

ROOT = Path(__file__).resolve().parent.parent


class Proc:
    """One uvicorn process of an app (uvloop + httptools, no access log)."""

    def __init__(self, app: str, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.app, self.env, self.log, self.workers = app, env, log, workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Proc:
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
                raise RuntimeError(f"{self.app} exited; see {self.log}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.app} not ready; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def load(url: str, *, seconds: float, concurrency: int, body: str = "none", seed: int = 1,
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Run bench/loadgen.py in its own process and return its figures."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--url", url,
         "--seconds", str(seconds), "--concurrency", str(concurrency), "--body", body,
         "--seed", str(seed), "--headers", json.dumps(headers or {})],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
