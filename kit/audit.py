"""Append-only audit log (invariant 8 in docs/ARCHITECTURE.md): every decision on money or
accreditation is a row with actor, action, reason and time. The table refuses UPDATE and DELETE
at the database level (triggers on SQLite and PostgreSQL), so no code path can rewrite history.

Hash chaining is opt-in (``audit_table(metadata, chained=True)``): each entry then belongs to a
chain (e.g. one per region) and carries its position in the chain, the hash of the entry before
it and its own hash (SHA-256 over the entry's canonical JSON and the previous hash). The chain's
head is one row in ``audit_chain_head`` that :func:`record` updates in the caller's transaction:
two transactions writing to the same chain queue on that row, so positions never collide and
no entry is ever chained to an uncommitted one. :func:`verify_chain` recomputes every hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import SchemaItem

from contracts.principal import Principal
from kit.db import insert_ignoring_conflicts
from kit.orm import UTCDateTime
from kit.tables import SeqType

GENESIS = "0" * 64


def audit_table(metadata: MetaData, *, chained: bool = False) -> Table:
    columns: list[SchemaItem] = [
        Column("seq", SeqType, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_role", String(40), nullable=False),
        Column("action", String(80), nullable=False),
        Column("subject_type", String(40), nullable=False),
        Column("subject_id", String(80), nullable=False),
        Column("region", String(40), nullable=True),
        Column("reason", Text, nullable=False),
        Column("details", JSON, nullable=False),
    ]
    if chained:
        columns += [
            Column("chain", String(80), nullable=False),
            Column("chain_seq", BigInteger, nullable=False),
            Column("prev_hash", String(64), nullable=False),
            Column("hash", String(64), nullable=False),
            UniqueConstraint("chain", "chain_seq", name="uq_audit_log_chain_position"),
        ]
        Table(
            "audit_chain_head",
            metadata,
            Column("chain", String(80), primary_key=True),
            Column("chain_seq", BigInteger, nullable=False),
            Column("hash", String(64), nullable=False),
        )
    t = Table("audit_log", metadata, *columns)
    Index("ix_audit_log_subject", t.c.subject_type, t.c.subject_id, t.c.seq)
    Index("ix_audit_log_region", t.c.region, t.c.seq)
    return t


def is_chained(table: Table) -> bool:
    return "hash" in table.c


def _head(table: Table) -> Table:
    return table.metadata.tables["audit_chain_head"]


def _canonical_time(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")


def entry_hash(entry: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 of the entry's canonical JSON (sorted keys, UTC time) and the previous hash."""
    fields = {k: entry[k] for k in ("chain", "chain_seq", "actor", "actor_role", "action",
                                    "subject_type", "subject_id", "region", "reason",
                                    "details")}
    fields["at"] = _canonical_time(entry["at"])
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    action: str
    subject_type: str
    subject_id: str
    reason: str
    region: str | None = None
    details: dict[str, Any] | None = None


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
    chain: str | None = None,
) -> None:
    await record_many(session, table, actor=actor, chain=chain, entries=[
        Entry(action, subject_type, subject_id, reason, region, details)])


async def record_many(session: AsyncSession, table: Table, *, actor: Principal | None,
                      entries: list[Entry], chain: str | None = None) -> None:
    """Several entries by one actor in one statement (and one turn of the chain's head)."""
    at = datetime.now(UTC)
    rows: list[dict[str, Any]] = [dict(
        at=at,
        actor=actor.sub if actor else "anonymous",
        actor_role=actor.role.value if actor else "anonymous",
        action=e.action,
        subject_type=e.subject_type,
        subject_id=e.subject_id,
        region=e.region,
        reason=e.reason,
        details=json.loads(json.dumps(e.details or {}, default=str)),
    ) for e in entries]
    if not rows:
        return
    if is_chained(table):
        name = chain or rows[0]["region"] or "global"
        seq, prev = await _lock_head(session, table, name)
        for row in rows:
            seq += 1
            row.update(chain=name, chain_seq=seq, prev_hash=prev)
            row["hash"] = prev = entry_hash(row, prev)
        head = _head(table)
        await session.execute(update(head).where(head.c.chain == name)
                              .values(chain_seq=seq, hash=prev))
    await session.execute(insert(table), rows)


async def _lock_head(session: AsyncSession, table: Table, chain: str) -> tuple[int, str]:
    """The chain's head, locked for this transaction (created on first use)."""
    head = _head(table)
    query = select(head.c.chain_seq, head.c.hash).where(head.c.chain == chain).with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        await session.execute(insert_ignoring_conflicts(
            session, head, {"chain": chain, "chain_seq": 0, "hash": GENESIS}))
        row = (await session.execute(query)).one()
    return int(row.chain_seq), str(row.hash)


@dataclass(frozen=True)
class ChainReport:
    chain: str
    entries: int
    head_hash: str
    valid: bool
    first_bad_seq: int | None = None  # chain position of the first entry that does not verify
    problem: str | None = None


async def verify_chain(session: AsyncSession, table: Table, chain: str,
                       *, page: int = 1000) -> ChainReport:
    """Walk the chain from its start and recompute every hash; compare the end with the head."""
    expected_prev, position, last = GENESIS, 0, GENESIS
    async for row in _chain_rows(session, table, chain, page):
        position += 1
        entry = dict(row._mapping)
        if entry["chain_seq"] != position:
            return ChainReport(chain, position - 1, last, False, position,
                               f"entry {position} is missing")
        if entry["prev_hash"] != expected_prev:
            return ChainReport(chain, position - 1, last, False, position,
                               "previous hash does not match")
        if entry_hash(entry, expected_prev) != entry["hash"]:
            return ChainReport(chain, position - 1, last, False, position,
                               "entry was altered")
        expected_prev = last = entry["hash"]
    head = _head(table)
    row = (await session.execute(select(head.c.chain_seq, head.c.hash)
                                 .where(head.c.chain == chain))).first()
    head_seq, head_hash = (int(row.chain_seq), str(row.hash)) if row else (0, GENESIS)
    if (head_seq, head_hash) != (position, last):
        return ChainReport(chain, position, last, False, position + 1,
                           "entries after the last one found are missing")
    return ChainReport(chain, position, last, True)


async def _chain_rows(session: AsyncSession, table: Table, chain: str,
                      page: int) -> AsyncIterator[Any]:
    after = 0
    while True:
        rows = (await session.execute(
            select(table).where(table.c.chain == chain, table.c.chain_seq > after)
            .order_by(table.c.chain_seq).limit(page))).all()
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after = int(rows[-1].chain_seq)


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
