"""municipalities of Etelä-Pohjanmaa completed (Isojoki), Swedish names

Revision ID: 5dd857ab3982
Revises: c506735ac399
Create Date: 2026-11-23 08:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5dd857ab3982'
down_revision: str | None = 'c506735ac399'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here, not imported: a revision keeps meaning what it meant when it was written.
ADDED = {"099": ({"fi": "Isojoki", "sv": "Storå", "en": "Isojoki"}, "etela-pohjanmaa")}
RENAMED = {"145": {"fi": "Ilmajoki", "sv": "Ilmola", "en": "Ilmajoki"}}

municipality = sa.table("municipality", sa.column("code"), sa.column("name", sa.JSON),
                        sa.column("region_code"))


def upgrade() -> None:
    conn = op.get_bind()
    present = {row[0] for row in conn.execute(
        sa.select(municipality.c.code).where(municipality.c.code.in_(list(ADDED))))}
    missing = [{"code": c, "name": n, "region_code": r}
               for c, (n, r) in ADDED.items() if c not in present]
    if missing:
        op.bulk_insert(municipality, missing)
    for code, name in RENAMED.items():
        conn.execute(sa.update(municipality).where(municipality.c.code == code)
                     .values(name=name))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.delete(municipality).where(municipality.c.code.in_(list(ADDED))))
    for code, name in RENAMED.items():
        conn.execute(sa.update(municipality).where(municipality.c.code == code)
                     .values(name=name | {"sv": name["fi"]}))
