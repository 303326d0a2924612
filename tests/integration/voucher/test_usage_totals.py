"""The migration that brings budgets' running usage totals fills them from the transfers already
written, on SQLite and PostgreSQL; afterwards the ledger keeps adding to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from kit.db import Database
from kit.migrate import upgrade
from services.migrate import migrations_dir
from services.voucher import ledger
from services.voucher.domain.ledger import (
    AccountRef,
    NewTransfer,
    TransferKind,
    budget_account,
    funder_account,
    voucher_account,
)
from services.voucher.models import LedgerAccount, LedgerTransfer
from tests.support import DbFactory

BEFORE = "5bd6f1cc541c"  # the last revision without budget_usage


def account(ref: AccountRef, dp: int = 0, dpo: int = 0, cp: int = 0, cpo: int = 0
            ) -> dict[str, Any]:
    return dict(id=ref.id, kind=ref.kind.value, region=ref.region, funder=ref.funder,
                owner=ref.owner, debits_must_not_exceed_credits=ref.limited,
                debits_pending=dp, debits_posted=dpo, credits_pending=cp, credits_posted=cpo)


def transfer(debit: AccountRef, credit: AccountRef, amount: int, kind: str, budget: str,
             voucher: str | None = None) -> dict[str, Any]:
    return dict(id=str(uuid.uuid4()), debit_account_id=debit.id, credit_account_id=credit.id,
                amount=amount, kind=kind, phase="posted", pending_id=None,
                region=debit.region, funder=debit.funder, budget_id=budget,
                voucher_id=voucher, provider_id=None, reference=f"budget:{budget}",
                group_id=str(uuid.uuid4()), created_at=datetime.now(UTC))


async def test_the_migration_fills_the_totals_from_the_transfers(db: DbFactory) -> None:
    target = db.new("voucher")
    database = Database(target.url, schema=target.schema)
    budget, voucher = str(uuid.uuid4()), str(uuid.uuid4())
    f, b = funder_account("r", "region"), budget_account("r", "region", budget)
    f837, b837 = funder_account("r", "837"), budget_account("r", "837", budget)
    v = voucher_account("r", "region", voucher)
    try:
        await upgrade(database, migrations_dir("voucher"), service="voucher", revision=BEFORE)
        async with database.session() as s:
            await s.execute(insert(LedgerAccount.__table__), [
                account(f, dpo=1_000), account(b, dpo=300, cpo=1_000 + 100),
                account(f837, dpo=500), account(b837, cpo=500), account(v, dpo=100, cpo=300)])
            await s.execute(insert(LedgerTransfer.__table__), [
                transfer(f, b, 600, "funding", budget), transfer(f, b, 400, "funding", budget),
                transfer(f837, b837, 500, "funding", budget),
                transfer(b, v, 300, "issue", budget, voucher),
                transfer(v, b, 100, "give_back", budget, voucher)])
            await s.commit()
        await upgrade(database, migrations_dir("voucher"), service="voucher")
        async with database.reader() as s:
            kept = await ledger.usage_sums(s, [budget])
            assert kept[budget] == {
                "region": {("funding", "posted"): 1_000, ("issue", "posted"): 300,
                           ("give_back", "posted"): 100},
                "837": {("funding", "posted"): 500}}
            assert await ledger.usage_mismatches(s) == []
        # and from here on the ledger adds to them
        async with database.session() as s:
            await ledger.transfer(s, [NewTransfer(b, f, 200, TransferKind.close)],
                                  ledger.Refs(f"budget:{budget}", budget))
            await s.commit()
        async with database.reader() as s:
            kept = await ledger.usage_sums(s, [budget])
            assert kept[budget]["region"][("close", "posted")] == 200
            assert await ledger.usage_mismatches(s) == []
    finally:
        await database.dispose()
