"""Shared pieces of the benchmarks: real service processes and the load generator process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benchmarks share the tests' process and probe helpers
    sys.path.insert(0, str(ROOT))

from tests.processes import ServiceProcess  # noqa: E402


class Proc(ServiceProcess):
    """One uvicorn process of an app; ready when /readyz answers."""


def load(
    url: str,
    *,
    seconds: float,
    concurrency: int,
    body: str = "none",
    seed: int = 1,
    headers: dict[str, str] | None = None,
    template: Any = None,
) -> dict[str, Any]:
    """Run bench/loadgen.py in its own process and return its figures."""
    extra = ["--template", json.dumps(template)] if template is not None else []
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "loadgen.py"),
            "--url",
            url,
            "--seconds",
            str(seconds),
            "--concurrency",
            str(concurrency),
            "--body",
            body,
            "--seed",
            str(seed),
            "--headers",
            json.dumps(headers or {}),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): what its requests cost
    whatever the load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_of_tree(pid: int) -> float:
    """:func:`cpu_seconds` of a process and its descendants (a server with worker
    processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            parents[int(entry.name)] = int(fields[1])
    tree, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p not in tree:
            tree.add(p)
            todo.extend(c for c, parent in parents.items() if parent == p)
    total = 0.0
    for p in tree:
        with contextlib.suppress(OSError):  # gone meanwhile
            total += cpu_seconds(p)
    return total


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
