"""offerings: whether the provider takes new customers now (from the registry's events; unknown
until the next one)

Revision ID: d5f9b2e38a61
Revises: a7c3d91e5b20
Create Date: 2026-11-30 01:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd5f9b2e38a61'
down_revision: str | None = 'a7c3d91e5b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offering_view', sa.Column('accepting_new_customers', sa.Boolean(),
                                             nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('offering_view') as batch:
        batch.drop_column('accepting_new_customers')
