"""assignment proposals by voucher (a voucher's latest default assignment, for its holder's
page); the append-only audit log of admins' overrides

Revision ID: a7c3d91e5b20
Revises: 9c41d7e2a5b3
Create Date: 2026-11-29 22:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kit.audit import append_only_ddl

revision: str = 'a7c3d91e5b20'
down_revision: str | None = '9c41d7e2a5b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_assignment_proposal_voucher', 'assignment_proposal', ['voucher_id'])
    op.create_table(
        'audit_log',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('actor_role', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=80), nullable=False),
        sa.Column('subject_type', sa.String(length=40), nullable=False),
        sa.Column('subject_id', sa.String(length=80), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_region', ['region', 'seq'], unique=False)
        batch_op.create_index('ix_audit_log_subject', ['subject_type', 'subject_id', 'seq'],
                              unique=False)
    for statement in append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('audit_log')
    op.drop_index('ix_assignment_proposal_voucher', table_name='assignment_proposal')
