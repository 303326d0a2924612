"""region_generation: a counter per region that grows with every change of its read models

Revision ID: 9c41d7e2a5b3
Revises: 6e13ce852e4a
Create Date: 2026-11-29 22:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9c41d7e2a5b3'
down_revision: str | None = '6e13ce852e4a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'region_generation',
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region'),
    )


def downgrade() -> None:
    op.drop_table('region_generation')
