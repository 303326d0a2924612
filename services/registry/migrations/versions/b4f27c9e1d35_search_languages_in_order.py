"""search languages in order: offering_search_language (a language's offerings, alone and per
region, by visibility and service type, in the search's order); the provider's index of the
search table in order whatever the visibility

Revision ID: b4f27c9e1d35
Revises: 7a1c52e9d0b4
Create Date: 2026-11-29 22:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'b4f27c9e1d35'
down_revision: str | None = '7a1c52e9d0b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('offering_search', schema=None) as batch_op:
        batch_op.drop_index('ix_offering_search_provider')
        batch_op.create_index('ix_offering_search_provider', ['provider_id', 'key', 'visible'],
                              unique=False)
    op.create_table(
        'offering_search_language',
        sa.Column('facet', sa.String(length=44), nullable=False),
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.Column('visible', sa.Boolean(), nullable=False),
        sa.Column('service_type', sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(['key'], ['offering_search.key'], ondelete='CASCADE',
                                name=op.f('fk_offering_search_language_key_offering_search')),
        sa.PrimaryKeyConstraint('facet', 'key', name=op.f('pk_offering_search_language')),
    )
    with op.batch_alter_table('offering_search_language', schema=None) as batch_op:
        batch_op.create_index('ix_offering_search_language', ['facet', 'visible', 'key'],
                              unique=False)
        batch_op.create_index('ix_offering_search_language_type',
                              ['facet', 'visible', 'service_type', 'key'], unique=False)
    for facet in ("l.language", "l.language || ' ' || s.region_code"):
        op.execute(
            "INSERT INTO offering_search_language (facet, key, visible, service_type) "
            f"SELECT {facet}, s.key, s.visible, s.service_type FROM offering_language l "
            "JOIN offering_search s ON s.offering_id = l.offering_id")


def downgrade() -> None:
    op.drop_table('offering_search_language')
    with op.batch_alter_table('offering_search', schema=None) as batch_op:
        batch_op.drop_index('ix_offering_search_provider')
        batch_op.create_index('ix_offering_search_provider', ['provider_id', 'visible', 'key'],
                              unique=False)
