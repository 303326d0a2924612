"""Alembic helpers: each service has its own migrations folder and version table
(``alembic_version_<service>``), runs them on start-up, and can be migrated from the command
line::

    python -m kit.migrate upgrade registry          # uses REGISTRY_DATABASE_URL
    python -m kit.migrate revision registry "add offerings"   # autogenerate
    python -m kit.migrate heads                     # every service has exactly one head
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from kit.db import Database

SERVICES = ("registry", "voucher", "matching")
ROOT = Path(__file__).resolve().parent.parent
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


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
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

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        # a shared database may hold other services' version tables: never touch them
        return not (type_ == "table" and name and name.startswith("alembic_version"))

    opts["include_name"] = include_name

    conn = cfg.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return

    settings = _settings_of(str(service))
    db = Database(settings.database_url, schema=settings.database_schema)

    async def _offline_cli() -> None:
        async with db.write_engine.begin() as c:
            await c.run_sync(_configure_and_run, opts)
        await db.dispose()

    asyncio.run(_offline_cli())


def _configure_and_run(conn: Connection, opts: dict[str, Any]) -> None:
    context.configure(connection=conn, **opts)
    with context.begin_transaction():
        context.run_migrations()


def _settings_of(service: str) -> Any:
    mod = importlib.import_module(f"services.{service}.settings")
    return mod.Settings()


def migrations_dir(service: str) -> str:
    return str(ROOT / "services" / service / "migrations")


def _cli(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, *rest = argv
    if cmd == "heads":
        bad = 0
        for svc in SERVICES:
            script = ScriptDirectory.from_config(alembic_config(migrations_dir(svc), svc))
            heads = script.get_heads()
            print(f"{svc}: {len(heads)} head(s) {heads}")
            bad += len(heads) != 1
        return 1 if bad else 0
    service = rest[0]
    cfg = alembic_config(migrations_dir(service), service)
    cfg.set_main_option("service", service)
    if cmd == "upgrade":
        settings = _settings_of(service)
        db = Database(settings.database_url, schema=settings.database_schema)

        async def _up() -> None:
            await upgrade(db, migrations_dir(service), service=service)
            await db.dispose()

        asyncio.run(_up())
        return 0
    if cmd == "revision":
        command.revision(cfg, message=rest[1] if len(rest) > 1 else "change", autogenerate=True)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
