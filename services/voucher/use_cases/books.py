"""The books check, run by the service's periodic job: every account's totals against the sum of
its transfers, and every budget's running usage totals against the transfers they sum. The
ledger keeps them together in one transaction, so a difference means something changed the
tables beside the ledger (a hand-made fix in the database, a restore of part of it, a defect):
it is logged as an error with the figures and exported as ``seteli_ledger_mismatches`` for an
alert, never corrected automatically — a person decides which side is right."""

from __future__ import annotations

import structlog
from prometheus_client import Gauge

from kit.db import Database
from services.voucher import ledger

log = structlog.get_logger("voucher.books")

MISMATCHES = Gauge("seteli_ledger_mismatches",
                   "Ledger totals that differ from their transfers at the last books check",
                   ["kind"])
SHOWN = 20  # differences named in the log line; the counts are whole


async def check(db: Database) -> dict[str, int]:
    async with db.reader() as s:
        accounts = await ledger.account_mismatches(s)
        usage = await ledger.usage_mismatches(s)
    MISMATCHES.labels(kind="account").set(len(accounts))
    MISMATCHES.labels(kind="budget_usage").set(len(usage))
    if accounts or usage:
        log.error("ledger_books_disagree", accounts=len(accounts), budget_usage=len(usage),
                  account_examples=[{"account_id": a, "kept": vars(k), "transfers": vars(t)}
                                    for a, k, t in accounts[:SHOWN]],
                  usage_examples=[{"budget_id": key[0], "funder": key[1], "kind": key[2],
                                   "phase": key[3], "kept": kept, "transfers": summed}
                                  for key, kept, summed in usage[:SHOWN]])
    return {"account_mismatches": len(accounts), "budget_usage_mismatches": len(usage)}
