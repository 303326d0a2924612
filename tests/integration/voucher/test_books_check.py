"""The periodic books check finds an account or a budget's usage total that no longer equals
its transfers (changed beside the ledger), on SQLite and PostgreSQL, and reports nothing while
the ledger alone has written."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY
from sqlalchemy import update

from kit.db import Database
from kit.migrate import upgrade
from services.migrate import migrations_dir
from services.voucher import ledger
from services.voucher.domain.ledger import (
    NewTransfer,
    TransferKind,
    budget_account,
    funder_account,
    voucher_account,
)
from services.voucher.models import BudgetUsage, LedgerAccount
from services.voucher.use_cases import books
from tests.support import DbFactory


def gauge(kind: str) -> float | None:
    return REGISTRY.get_sample_value("seteli_ledger_mismatches", {"kind": kind})


async def test_the_books_check_finds_totals_changed_beside_the_ledger(db: DbFactory) -> None:
    target = db.new("voucher")
    database = Database(target.url, schema=target.schema)
    budget, voucher = str(uuid.uuid4()), str(uuid.uuid4())
    f, b = funder_account("r", "region"), budget_account("r", "region", budget)
    v = voucher_account("r", "region", voucher)
    try:
        await upgrade(database, migrations_dir("voucher"), service="voucher")
        async with database.session() as s:
            await ledger.open_accounts(s, [f, b, v])
            refs = ledger.Refs(f"budget:{budget}", budget)
            await ledger.transfer(s, [NewTransfer(f, b, 1_000, TransferKind.funding)], refs)
            await ledger.transfer(s, [NewTransfer(b, v, 300, TransferKind.issue)],
                                  ledger.Refs(f"voucher:{voucher}", budget, voucher))
            await ledger.transfer(s, [NewTransfer(v, b, 100, TransferKind.give_back)],
                                  ledger.Refs(f"voucher:{voucher}", budget, voucher))
            await s.commit()
        assert await books.check(database) == {"account_mismatches": 0,
                                               "budget_usage_mismatches": 0}
        assert gauge("account") == 0 and gauge("budget_usage") == 0

        async with database.session() as s:  # a hand-made "fix" of two tables
            await s.execute(update(LedgerAccount).where(LedgerAccount.id == v.id)
                            .values(credits_posted=LedgerAccount.credits_posted + 50))
            await s.execute(update(BudgetUsage).where(BudgetUsage.budget_id == budget,
                                                      BudgetUsage.kind == "issue")
                            .values(total_cents=BudgetUsage.total_cents - 1))
            await s.commit()
        assert await books.check(database) == {"account_mismatches": 1,
                                               "budget_usage_mismatches": 1}
        assert gauge("account") == 1 and gauge("budget_usage") == 1
        async with database.reader() as s:
            [(account_id, kept, recomputed)] = await ledger.account_mismatches(s)
        assert account_id == v.id
        assert (kept.credits_posted, recomputed.credits_posted) == (350, 300)
    finally:
        await database.dispose()
