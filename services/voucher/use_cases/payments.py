"""Payment batches: a region's approved claims handed to its payment system together.

Making a batch is a pending PAYABLE → CLEARING transfer per payable account (per budget,
provider and funder); the export (CSV or JSON) lists those transfers. When the region confirms
the payment the transfers are posted and the claims are paid; when the export fails they are
voided and the claims wait for the next batch."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from contracts.voucher import (
    ClaimPaid,
    PaymentBatchEvent,
    PaymentBatchExported,
    PaymentBatchFailed,
    PaymentBatchPaid,
)
from kit.db import Database
from kit.errors import Conflict
from kit.idempotency import Once
from kit.outbox import add_event
from services.voucher import access, ledger, repository
from services.voucher.domain.ledger import (
    AccountRef,
    NewTransfer,
    Phase,
    TransferKind,
    clearing_account,
)
from services.voucher.models import LedgerTransfer, PaymentBatch, ProviderView, plumbing
from services.voucher.schemas import BatchFailureIn, PaymentBatchOut, PaymentLine
from services.voucher.use_cases.claims import claim_event
from services.voucher.use_cases.common import now, once, record

T = LedgerTransfer.__table__
MAX_CLAIMS = 5_000  # per batch: a bigger backlog is paid in several batches


async def _lines(s: AsyncSession, batch_id: str) -> list[PaymentLine]:
    rows = await s.execute(select(T.c.provider_id, T.c.funder, T.c.amount).where(
        T.c.reference == f"batch:{batch_id}", T.c.phase == Phase.pending.value)
        .order_by(T.c.provider_id, T.c.funder))
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for provider_id, funder, amount in rows.all():
        totals[(str(provider_id), str(funder))] += int(amount)
    return [PaymentLine(provider_id=p, funder=f, amount_cents=a) for (p, f), a in totals.items()]


async def batch_out(s: AsyncSession, b: PaymentBatch) -> PaymentBatchOut:
    return PaymentBatchOut(id=b.id, region=b.region, status=b.status, claims=b.claims,
                           total_cents=b.total_cents, claim_ids=list(b.claim_ids),
                           lines=await _lines(s, b.id), created_at=b.created_at,
                           settled_at=b.settled_at, reason=b.reason, version=b.version)


async def _event(s: AsyncSession, cls: type[PaymentBatchEvent], b: PaymentBatch,
                 **extra: Any) -> None:
    await add_event(s, plumbing, cls(batch_id=b.id, region=b.region, status=b.status,
                                   claims=b.claims, total_cents=b.total_cents,
                                   version=b.version, **extra), resource=b.id)


async def create(db: Database, principal: Principal,
                 key: str | None) -> Once[PaymentBatchOut]:
    region = access.admin_region(principal)

    async def work(s: AsyncSession) -> PaymentBatchOut:
        claims = await repository.payable_claims(s, region, MAX_CLAIMS)
        if not claims:
            raise Conflict("no approved claim is waiting for payment",
                           type="/problems/nothing-to-pay")
        ids = [c.id for c in claims]
        posted = (await s.execute(select(T.c.credit_account_id, T.c.amount, T.c.funder,
                                         T.c.budget_id, T.c.provider_id)
                                  .where(T.c.reference.in_([f"claim:{i}" for i in ids]),
                                         T.c.kind == TransferKind.claim.value,
                                         T.c.phase == Phase.post.value))).all()
        per_account: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for account_id, amount, funder, budget_id, provider_id in posted:
            per_account[(str(account_id), str(funder), str(budget_id),
                         str(provider_id))] += int(amount)
        b = PaymentBatch(id=str(uuid7()), region=region, status="exported", claims=len(ids),
                         total_cents=sum(per_account.values()), claim_ids=ids,
                         created_at=now(), created_by=principal.sub, reason="", version=1)
        s.add(b)
        await s.flush()
        transfers, refs = [], []
        for (account_id, funder, budget_id, provider_id), amount in sorted(per_account.items()):
            transfers.append(NewTransfer(AccountRef.parse(account_id),
                                         clearing_account(region, funder), amount,
                                         TransferKind.payment, pending=True))
            refs.append(ledger.Refs(f"batch:{b.id}", budget_id, None, provider_id))
        await ledger.open_accounts(s, [t.credit for t in transfers])
        await ledger.transfer(s, transfers, refs)
        for c in claims:
            c.payment_batch_id = b.id
            c.version += 1
        await record(s, principal, action="payment_batch.exported", subject_type="payment_batch",
                     subject_id=b.id, region=region, reason="payment batch exported",
                     details={"claims": len(ids), "total_cents": b.total_cents})
        await _event(s, PaymentBatchExported, b)
        return await batch_out(s, b)

    return await once(db, principal, "POST /payments", key, {}, work, PaymentBatchOut)


async def _settle(db: Database, principal: Principal, batch_id: str,
                  key: str | None, *, paid: bool, reason: str) -> Once[PaymentBatchOut]:
    async def work(s: AsyncSession) -> PaymentBatchOut:
        b = access.visible_batch(principal, await repository.batch(s, batch_id, lock=True))
        if b.status != "exported":
            raise Conflict(f"the batch is already {b.status}", type="/problems/already-decided")
        await ledger.resolve(s, await ledger.pending_of(s, f"batch:{b.id}"), post=paid)
        b.status, b.settled_at, b.reason = ("paid" if paid else "failed"), now(), reason
        b.version += 1
        for c in await repository.claims_by_ids(s, list(b.claim_ids)):
            c.version += 1
            if paid:
                c.status = "paid"
                await claim_event(s, ClaimPaid, c, payment_batch_id=b.id)
            else:
                c.payment_batch_id = None  # waits for the next batch
        await record(s, principal, action=f"payment_batch.{b.status}",
                     subject_type="payment_batch", subject_id=b.id, region=b.region,
                     reason=reason, details={"total_cents": b.total_cents})
        if paid:
            await _event(s, PaymentBatchPaid, b)
        else:
            await _event(s, PaymentBatchFailed, b, reason=reason)
        return await batch_out(s, b)

    route = "confirmation" if paid else "failure"
    return await once(db, principal, f"POST /payments/{batch_id}/{route}", key,
                      {"reason": reason}, work, PaymentBatchOut)


async def confirm(db: Database, principal: Principal, batch_id: str,
                  key: str | None) -> Once[PaymentBatchOut]:
    return await _settle(db, principal, batch_id, key, paid=True,
                         reason="payment confirmed by the region")


async def fail(db: Database, principal: Principal, batch_id: str,
               body: BatchFailureIn, key: str | None) -> Once[PaymentBatchOut]:
    return await _settle(db, principal, batch_id, key, paid=False, reason=body.reason)


async def get(db: Database, principal: Principal, batch_id: str) -> PaymentBatchOut:
    async with db.reader() as s:
        b = access.visible_batch(principal, await repository.batch(s, batch_id))
        return await batch_out(s, b)


async def list_(db: Database, principal: Principal, *, after: str | None,
                limit: int) -> list[PaymentBatchOut]:
    region = access.admin_region(principal)
    async with db.reader() as s:
        return [await batch_out(s, b)
                for b in await repository.batches(s, region, after=after, limit=limit)]


CSV_COLUMNS = ["batch_id", "provider_id", "business_id", "legal_name", "funder",
               "amount_cents", "amount_eur"]


async def export(db: Database, principal: Principal, batch_id: str) -> tuple[str, str]:
    """The batch's lines for the region's payment system: (CSV text, file name). Names come
    from the registry's events; a cell that could start a spreadsheet formula is quoted."""
    async with db.reader() as s:
        b = access.visible_batch(principal, await repository.batch(s, batch_id))
        lines = await _lines(s, b.id)
        providers = {p.provider_id: p for p in (await s.scalars(select(ProviderView).where(
            ProviderView.provider_id.in_({line.provider_id for line in lines})))).all()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        p = providers.get(line.provider_id)
        writer.writerow([b.id, line.provider_id, p.business_id if p else "",
                         _cell(p.legal_name) if p else "", line.funder, line.amount_cents,
                         f"{line.amount_cents // 100}.{line.amount_cents % 100:02d}"])
    return out.getvalue(), f"payment-batch-{b.id}.csv"


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
