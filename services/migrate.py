"""Migrations of every service from the command line::

    python -m services.migrate upgrade registry          # uses REGISTRY_DATABASE_URL
    python -m services.migrate revision registry "add offerings"   # autogenerate
    python -m services.migrate heads                     # every service has exactly one head
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from kit.db import Database
from kit.migrate import alembic_config, upgrade
from kit.settings import ServiceSettings
from services.matching.settings import Settings as MatchingSettings
from services.registry.settings import Settings as RegistrySettings
from services.voucher.settings import Settings as VoucherSettings

SETTINGS: dict[str, Callable[[], ServiceSettings]] = {
    "registry": RegistrySettings, "voucher": VoucherSettings, "matching": MatchingSettings,
}
SERVICES = tuple(SETTINGS)


def migrations_dir(service: str) -> str:
    return str(Path(__file__).resolve().parent / service / "migrations")


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
    if not rest or rest[0] not in SETTINGS:
        print(__doc__)
        return 2
    service = rest[0]
    cfg = alembic_config(migrations_dir(service), service)
    cfg.set_main_option("service", service)
    if cmd == "upgrade":
        settings = SETTINGS[service]()
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
