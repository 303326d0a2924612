"""Reports of a region's money per service type, provider, funder or budget, over a period:
every sum is computed from the ledger's transfers (never from counters kept beside them);
only the counts of completed vouchers and achieved outcomes come from the vouchers."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from kit import audit
from kit.db import Database
from kit.errors import Unprocessable
from services.voucher import access
from services.voucher.domain.usage import usage
from services.voucher.models import Budget, LedgerTransfer, Voucher, audit_log
from services.voucher.use_cases.common import FINLAND

T = LedgerTransfer.__table__


class Dimension(StrEnum):
    service_type = "service_type"
    provider = "provider"
    funder = "funder"
    budget = "budget"
    region = "region"


class ReportRow(BaseModel):
    key: str
    funded_cents: int
    issued_cents: int
    committed_cents: int
    spent_cents: int
    pending_cents: int
    released_cents: int
    available_cents: int
    paid_cents: int
    completed_vouchers: int | None
    achieved_outcomes: int | None
    cost_per_completed_cents: int | None
    cost_per_outcome_cents: int | None


class Report(BaseModel):
    region: str
    by: Dimension
    period_from: date | None
    period_to: date | None
    rows: list[ReportRow]


def _bounds(period_from: date | None, period_to: date | None) -> tuple[Any, Any]:
    """Finnish calendar days, inclusive, as UTC instants."""
    if period_from and period_to and period_to < period_from:
        raise Unprocessable.field("to", "is before from")
    start = datetime.combine(period_from, time(), FINLAND) if period_from else None
    end = datetime.combine(period_to + timedelta(days=1), time(), FINLAND) if period_to else None
    return start, end


async def sums(s: AsyncSession, region: str, by: Dimension, start: Any,
               end: Any) -> dict[str, dict[tuple[str, str], int]]:
    key = {Dimension.service_type: Budget.service_type, Dimension.provider: T.c.provider_id,
           Dimension.funder: T.c.funder, Dimension.budget: T.c.budget_id,
           Dimension.region: T.c.region}[by]
    q = (select(key, T.c.kind, T.c.phase, func.sum(T.c.amount))
         .select_from(T.join(Budget, Budget.id == T.c.budget_id))
         .where(T.c.region == region).group_by(key, T.c.kind, T.c.phase))
    if by is Dimension.provider:
        q = q.where(T.c.provider_id.is_not(None))
    if start is not None:
        q = q.where(T.c.created_at >= start)
    if end is not None:
        q = q.where(T.c.created_at < end)
    out: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for k, kind, phase, total in (await s.execute(q)).all():
        out[str(k)][(str(kind), str(phase))] = int(total or 0)
    return out


async def _counts(s: AsyncSession, region: str, by: Dimension, start: Any,
                  end: Any) -> dict[str, tuple[int, int]] | None:
    column = {Dimension.service_type: Voucher.service_type,
              Dimension.provider: Voucher.provider_id, Dimension.budget: Voucher.budget_id,
              Dimension.region: Voucher.region}.get(by)
    if column is None:
        return None  # a voucher is paid by several funders: no count per funder
    achieved = func.sum(case((Voucher.outcome.in_(("employed", "studying")), 1), else_=0))
    q = (select(column, func.count(), achieved).where(
        Voucher.region == region, Voucher.completed_on.is_not(None)).group_by(column))
    if start is not None:
        q = q.where(Voucher.completed_on >= start.date())
    if end is not None:
        q = q.where(Voucher.completed_on < end.date())
    return {str(k): (int(n), int(a or 0)) for k, n, a in (await s.execute(q)).all()}


async def report(db: Database, principal: Principal, by: Dimension,
                 period_from: date | None, period_to: date | None) -> Report:
    region = access.admin_region(principal)
    start, end = _bounds(period_from, period_to)
    async with db.reader() as s:
        money = await sums(s, region, by, start, end)
        counts = await _counts(s, region, by, start, end)
    rows = []
    for key in sorted(set(money) | set(counts or {})):
        u = usage(money.get(key, {}))
        completed, achieved = (counts or {}).get(key, (0, 0))
        rows.append(ReportRow(
            key=key, funded_cents=u.funded, issued_cents=u.issued,
            committed_cents=u.committed, spent_cents=u.spent, pending_cents=u.pending,
            released_cents=u.released, available_cents=u.available, paid_cents=u.paid,
            completed_vouchers=completed if counts is not None else None,
            achieved_outcomes=achieved if counts is not None else None,
            cost_per_completed_cents=u.spent // completed if counts and completed else None,
            cost_per_outcome_cents=u.spent // achieved if counts and achieved else None))
    return Report(region=region, by=by, period_from=period_from, period_to=period_to,
                  rows=rows)


def as_csv(r: Report) -> str:
    out = io.StringIO()
    fields = list(ReportRow.model_fields)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["region", "by", *fields])
    for row in r.rows:
        values = row.model_dump()
        writer.writerow([r.region, r.by.value, *("" if values[f] is None else values[f]
                                                  for f in fields)])
    return out.getvalue()


# ------------------------------------------------------------------ the audit chain


class AuditEntry(BaseModel):
    chain_seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    reason: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class ChainVerification(BaseModel):
    chain: str
    entries: int
    head_hash: str
    valid: bool
    first_bad_seq: int | None
    problem: str | None


async def audit_entries(db: Database, principal: Principal, *, before: int | None,
                        limit: int) -> list[AuditEntry]:
    region = access.admin_region(principal)
    t = audit_log
    q = select(t).where(t.c.chain == region)
    if before is not None:
        q = q.where(t.c.chain_seq < before)
    async with db.reader() as s:
        rows = (await s.execute(q.order_by(t.c.chain_seq.desc()).limit(limit))).mappings()
        return [AuditEntry.model_validate(dict(r)) for r in rows.all()]


async def verify(db: Database, principal: Principal) -> ChainVerification:
    region = access.admin_region(principal)
    async with db.reader() as s:
        r = await audit.verify_chain(s, audit_log, region)
    return ChainVerification(chain=r.chain, entries=r.entries, head_hash=r.head_hash,
                             valid=r.valid, first_bad_seq=r.first_bad_seq, problem=r.problem)
