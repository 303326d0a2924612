"""the probe's tables

Revision ID: 0001_probe
Revises:
Create Date: 2026-11-29 15:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0001_probe'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from tests.probe import metadata

    metadata.create_all(op.get_bind())


def downgrade() -> None:
    from tests.probe import metadata

    metadata.drop_all(op.get_bind())
