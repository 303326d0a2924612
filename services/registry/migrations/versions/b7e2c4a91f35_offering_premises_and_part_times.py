"""offering premises, accessibility, new customers and when each part was updated

Revision ID: b7e2c4a91f35
Revises: b4f27c9e1d35
Create Date: 2026-11-29 22:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e2c4a91f35'
down_revision: str | None = 'b4f27c9e1d35'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PART_TIMES = ('details_updated_at', 'places_updated_at', 'premises_updated_at')


def upgrade() -> None:
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street_address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('post_office', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('accessibility', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('accessibility_note', sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column('accepting_new_customers', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        for name in PART_TIMES:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    # What is there was last changed when the offering was.
    op.execute("UPDATE offering SET " + ", ".join(f"{n} = updated_at" for n in PART_TIMES))
    with op.batch_alter_table('offering', schema=None) as batch_op:
        for name in PART_TIMES:
            batch_op.alter_column(name, existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('offering', schema=None) as batch_op:
        for name in reversed(PART_TIMES):
            batch_op.drop_column(name)
        batch_op.drop_column('accepting_new_customers')
        batch_op.drop_column('accessibility_note')
        batch_op.drop_column('accessibility')
        batch_op.drop_column('post_office')
        batch_op.drop_column('postcode')
        batch_op.drop_column('street_address')
