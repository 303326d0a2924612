"""budget usage running totals

Revision ID: b7e2a4c91d30
Revises: 5bd6f1cc541c
Create Date: 2026-11-29 22:05:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e2a4c91d30'
down_revision: str | None = '5bd6f1cc541c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('budget_usage',
    sa.Column('budget_id', sa.String(length=36), nullable=False),
    sa.Column('funder', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('total_cents', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('budget_id', 'funder', 'kind', 'phase',
                            name=op.f('pk_budget_usage'))
    )
    # The totals of the transfers already written (the table is read only after this commits).
    op.execute("INSERT INTO budget_usage (budget_id, funder, kind, phase, total_cents) "
               "SELECT budget_id, funder, kind, phase, SUM(amount) FROM ledger_transfer "
               "GROUP BY budget_id, funder, kind, phase")


def downgrade() -> None:
    op.drop_table('budget_usage')
