"""the registry replica: provider_view keeps a version, accreditation_view holds each
region's state

Revision ID: 3e8f2b7c4a10
Revises: b2ff1a5dfd11
Create Date: 2026-11-29 15:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3e8f2b7c4a10'
down_revision: str | None = 'b2ff1a5dfd11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('provider_view') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.drop_column('regions')
        batch.drop_column('status')
    op.create_table(
        'accreditation_view',
        sa.Column('provider_id', sa.String(length=36), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('provider_id', 'region', name=op.f('pk_accreditation_view')),
    )


def downgrade() -> None:
    op.drop_table('accreditation_view')
    with op.batch_alter_table('provider_view') as batch:
        batch.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                   server_default='applied'))
        batch.add_column(sa.Column('regions', sa.JSON(), nullable=False,
                                   server_default='[]'))
        batch.drop_column('version')
