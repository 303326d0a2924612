"""assignment proposals by voucher: the latest default assignment of a voucher, for its
holder's page

Revision ID: a7c3d91e5b20
Revises: 6e13ce852e4a
Create Date: 2026-11-29 22:10:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'a7c3d91e5b20'
down_revision: str | None = '6e13ce852e4a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_assignment_proposal_voucher', 'assignment_proposal', ['voucher_id'])


def downgrade() -> None:
    op.drop_index('ix_assignment_proposal_voucher', table_name='assignment_proposal')
