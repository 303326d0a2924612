"""provider_view as a replica of the registry: its regions and states are the
accreditation_view rows, its name follows provider.updated by version

Revision ID: 7a1c0e5b9d21
Revises: cd724020acd2
Create Date: 2026-11-29 15:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7a1c0e5b9d21'
down_revision: str | None = 'cd724020acd2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('provider_view') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.drop_column('regions')
        batch.drop_column('status')


def downgrade() -> None:
    with op.batch_alter_table('provider_view') as batch:
        batch.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                   server_default='applied'))
        batch.add_column(sa.Column('regions', sa.JSON(), nullable=False,
                                   server_default='[]'))
        batch.drop_column('version')
