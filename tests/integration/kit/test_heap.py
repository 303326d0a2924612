"""A running service keeps what its start-up made out of the garbage collector's full
collections (kit.heap.settled_heap), and hands it back when it stops."""

from __future__ import annotations

import gc

from tests.probe import Settings, create_app
from tests.support import DbFactory, running, service_settings


async def test_a_running_service_freezes_its_start_up_heap_and_releases_it_on_stop(
    sqlite_db: DbFactory, nats_url: str
) -> None:
    gc.unfreeze()
    app = create_app(service_settings(Settings, sqlite_db.new("probe"), nats_url))
    async with running(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the modules, the app, its routes and models
        gc.collect()
        assert gc.get_freeze_count() == frozen  # a full collection leaves them alone
    assert gc.get_freeze_count() == 0
