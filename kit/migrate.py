"""Alembic helpers: each service has its own migrations folder and version table
(``alembic_version_<service>``) and runs them on start-up. The command line that knows the
services is ``python -m services.migrate``; this module knows none of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from kit.db import Database
from kit.settings import ServiceSettings

ADVISORY_LOCK_ID = 0x5E7E11


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def alembic_config(migrations: str, service: str, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", migrations)
    cfg.set_main_option("version_table", version_table(service))
    cfg.attributes["service"] = service
    cfg.attributes["schema"] = schema
    return cfg


async def upgrade(db: Database, migrations: str, *, service: str, revision: str = "head") -> None:
    """Bring the service's database to ``revision`` on the writer connection."""
    cfg = alembic_config(migrations, service, db.schema)

    def _run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with db.write_engine.begin() as conn:
        if not db.sqlite:
            # Several replicas may start at once: one migrates, the others wait.
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})"))
            if db.schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        await conn.run_sync(_run)


MADE_BY_MIGRATIONS = "made_by_migrations"


def compared_names(metadata: MetaData) -> Callable[[str | None, str, Any], bool]:
    """Alembic's ``include_name`` for ``metadata``: never another service's version table (a
    shared database holds them), and not what the migrations make in raw SQL without a model
    (``metadata.info["made_by_migrations"]``: a full-text virtual table with its shadow tables
    ``<name>_*``, an index of an operator class)."""
    own = tuple(metadata.info.get(MADE_BY_MIGRATIONS, ()))

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        if not name:
            return True
        if type_ == "table" and name.startswith("alembic_version"):
            return False
        return not any(name == made or name.startswith(made + "_") for made in own)

    return include_name


def run_env(metadata: MetaData, settings: Callable[[], ServiceSettings]) -> None:
    """Body of every service's ``migrations/env.py``; ``settings`` gives the database to
    migrate when Alembic runs from the command line (``services.migrate``)."""
    cfg = context.config
    service = cfg.attributes.get("service") or cfg.get_main_option("service")
    table = version_table(str(service))
    schema = cfg.attributes.get("schema")
    opts: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": table,
        "version_table_schema": schema,
        "render_as_batch": True,
        "compare_type": True,
    }
    opts["include_name"] = compared_names(metadata)

    conn = cfg.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return

    given = settings()
    db = Database(given.database_url, schema=given.database_schema)

    async def _offline_cli() -> None:
        async with db.write_engine.begin() as c:
            await c.run_sync(_configure_and_run, opts)
        await db.dispose()

    asyncio.run(_offline_cli())


def _configure_and_run(conn: Connection, opts: dict[str, Any]) -> None:
    context.configure(connection=conn, **opts)
    with context.begin_transaction():
        context.run_migrations()
