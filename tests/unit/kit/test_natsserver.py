"""The local nats-server of :mod:`kit.natsserver`: what the relay relies on when it marks an
outbox row sent (an acknowledged publish survives SIGKILL of the broker), and that a restart
comes back on the same port and store."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest

from kit.broker import ensure_streams
from kit.natsserver import NatsServer, StoreInUse


async def test_acknowledged_publishes_survive_sigkill_and_restart(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats", log_file=tmp_path / "nats.log")
    server.start()
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream(timeout=5)
        await ensure_streams(js)
        for i in range(20):
            await js.publish("seteli.registry.v1.thing", str(i).encode(),
                             headers={"Nats-Msg-Id": f"event-{i}"})
        await nc.close()
        port = server.port
        server.kill()  # right after the last acknowledgement
        server.start()
        assert server.port == port
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream(timeout=5)
            info = await js.stream_info("REGISTRY")
            assert info.state.messages == 20
            # the duplicate window survives the restart too: a re-publish is dropped
            ack = await js.publish("seteli.registry.v1.thing", b"0",
                                   headers={"Nats-Msg-Id": "event-0"})
            assert ack.duplicate
            assert (await js.stream_info("REGISTRY")).state.messages == 20
        finally:
            await nc.close()
    finally:
        server.stop()
    assert "jetstream" in (tmp_path / "nats" / "nats-server.conf").read_text()



def test_a_store_in_use_is_refused_and_freed_when_its_server_stops(tmp_path: Path) -> None:
    first = NatsServer(tmp_path / "nats")
    first.start()
    try:
        second = NatsServer(tmp_path / "nats")
        with pytest.raises(StoreInUse):
            second.start()
        assert second.proc is None  # refused before any server started
        first.kill()
        first.start()  # a restart of the same server takes the store again
    finally:
        first.stop()
    second.start()  # free once the first is stopped
    second.stop()
