"""publish the seeded service-type catalogue as service_type.added events

The catalogue seeded by the initial schema was never announced, so the other services (the
voucher service copies each type's payment scheme onto the vouchers it issues) could not know
it. This writes one service_type.added event per type into the outbox; the relay publishes
them like any other.

Revision ID: e3b84f1d6a09
Revises: 30f518706a98
Create Date: 2026-11-29 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e3b84f1d6a09'
down_revision: str | None = '30f518706a98'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from datetime import UTC, datetime

    from contracts.registry import LocalizedText, PaymentMilestone, ServiceTypeAdded

    conn = op.get_bind()
    service_type = sa.table("service_type", sa.column("code"), sa.column("name", sa.JSON),
                            sa.column("payment_scheme", sa.JSON))
    outbox = sa.table("outbox", sa.column("event_id"), sa.column("subject"),
                      sa.column("payload"), sa.column("created_at", sa.DateTime(timezone=True)))
    rows = []
    for code, name, scheme in conn.execute(
            sa.select(service_type.c.code, service_type.c.name, service_type.c.payment_scheme)
            .order_by(service_type.c.code)).all():
        event = ServiceTypeAdded(code=code, names=LocalizedText(**name),
                                 payment_scheme=[PaymentMilestone(**m) for m in scheme])
        envelope = event.envelope(resource=code)
        rows.append({"event_id": envelope.id, "subject": event.subject(),
                     "payload": envelope.model_dump_json(), "created_at": datetime.now(UTC)})
    if rows:
        op.bulk_insert(outbox, rows)


def downgrade() -> None:
    pass  # published events cannot be taken back
