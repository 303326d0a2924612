"""Append-only audit log (invariant 8 in docs/ARCHITECTURE.md): every decision on money or
accreditation is a row with actor, action, reason and time. The table refuses UPDATE and DELETE
at the database level (triggers on SQLite and PostgreSQL), so no code path can rewrite history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, MetaData, String, Table, Text, insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from kit.tables import SeqType


def audit_table(metadata: MetaData) -> Table:
    log = Table(
        "audit_log",
        metadata,
        Column("seq", SeqType, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_role", String(40), nullable=False),
        Column("action", String(80), nullable=False),
        Column("subject_type", String(40), nullable=False),
        Column("subject_id", String(80), nullable=False),
        Column("region", String(40), nullable=True),
        Column("reason", Text, nullable=False),
        Column("details", JSON, nullable=False),
    )
    Index("ix_audit_log_subject", log.c.subject_type, log.c.subject_id, log.c.seq)
    Index("ix_audit_log_region", log.c.region, log.c.seq)
    return log


async def record(
    session: AsyncSession,
    table: Table,
    *,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: str,
    reason: str,
    region: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        insert(table).values(
            at=datetime.now(UTC),
            actor=actor.sub if actor else "anonymous",
            actor_role=actor.role.value if actor else "anonymous",
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            region=region,
            reason=reason,
            details=details or {},
        )
    )


def append_only_ddl(dialect: str, table: str = "audit_log") -> list[str]:
    """Statements for a migration: make ``table`` refuse UPDATE and DELETE."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    return [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]
