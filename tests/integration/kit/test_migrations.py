"""Each service's migrations build exactly what its models describe, on SQLite and PostgreSQL,
and each service has exactly one Alembic head."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from kit.db import Database
from kit.migrate import alembic_config, compared_names, upgrade, version_table
from services.migrate import SERVICES, migrations_dir
from tests.support import DbFactory


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models(db: DbFactory, service: str) -> None:
    target = db.new(service)
    database = Database(target.url, schema=target.schema)
    try:
        await upgrade(database, migrations_dir(service), service=service)
        await upgrade(database, migrations_dir(service), service=service)  # idempotent
        metadata = importlib.import_module(f"services.{service}.models").metadata

        def diff(conn: Any) -> list[Any]:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True, "version_table": version_table(service),
                "include_name": compared_names(metadata)})
            return list(compare_metadata(ctx, metadata))

        async with database.write_engine.connect() as conn:
            changes = await conn.run_sync(diff)
        assert changes == [], f"{service}: models and migrations differ: {changes}"
    finally:
        await database.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_one_head(service: str) -> None:
    cfg: Config = alembic_config(migrations_dir(service), service)
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, heads
    assert Path(migrations_dir(service)).joinpath("env.py").exists()
