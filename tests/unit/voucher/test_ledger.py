"""The ledger alone, against a model: a hypothesis state machine funds budgets, issues to
vouchers, claims (pending), posts and voids, gives back, pays in batches and closes budgets in
random order, tries to overdraw and to resolve a pending transfer twice, and after every step
checks that the database agrees with the model, that the books balance, and that the running
totals of each budget's usage equal the sums recomputed from the transfers.

SQLite always (unit level: one migrated file for the whole run, fresh account names for each
example); a shorter run on PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kit.db import Database, normalise_url
from kit.migrate import upgrade
from services.voucher import ledger
from services.voucher.domain.ledger import (
    AccountRef,
    Balance,
    InvalidTransfer,
    NewTransfer,
    Phase,
    TransferKind,
    budget_account,
    clearing_account,
    effect,
    funder_account,
    payable_account,
    voucher_account,
)
from services.voucher.domain.money import split
from services.voucher.models import LedgerAccount, LedgerTransfer

MIGRATIONS = str(Path(__file__).resolve().parents[3] / "services" / "voucher" / "migrations")
FUNDERS = ("region", "837")
A, T = LedgerAccount.__table__, LedgerTransfer.__table__


class Books:
    """One migrated database and the event loop that owns its engine."""

    def __init__(self, url: str, schema: str | None) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(url, schema=schema)
        self.run(upgrade(self.db, MIGRATIONS, service="voucher"))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


@pytest.fixture(scope="module")
def sqlite_books(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Books]:
    books = Books(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ledger') / 'v.db'}", None)
    yield books
    books.close()


@pytest.fixture(scope="module")
def postgres_books() -> Iterator[Books]:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL run of the ledger not done")
    schema = f"t_{uuid.uuid4().hex[:10]}_ledger"
    books = Books(normalise_url(url), schema)
    yield books

    async def drop() -> None:
        async with books.db.write_engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    books.run(drop())
    books.close()


class LedgerMachine(RuleBasedStateMachine):
    books: Books

    budgets = Bundle("budgets")
    vouchers = Bundle("vouchers")
    claims = Bundle("claims")  # (pending ids, payable refs)

    def __init__(self) -> None:
        super().__init__()
        self.region = f"r{uuid.uuid4().hex[:8]}"
        self.model: dict[str, Balance] = {}
        self.refs: dict[str, AccountRef] = {}
        self.resolved: set[str] = set()
        self.pending: dict[str, tuple[str, str, int]] = {}  # id -> (debit, credit, amount)
        self.batches: list[list[str]] = []

    # ------------------------------------------------------------ helpers

    def apply(self, transfers: list[NewTransfer], refs: ledger.Refs,
              new: tuple[AccountRef, ...] = ()) -> list[str] | None:
        """Run the transfers in one transaction; on refusal the model stays as it was."""
        async def go() -> list[str]:
            async with self.books.db.session() as s:
                if not new:
                    await ledger.open_accounts(s, [r for t in transfers
                                                   for r in (t.debit, t.credit)])
                ids = await ledger.transfer(s, transfers, refs, new_accounts=new)
                await s.commit()
                return ids

        expected = {k: Balance(**vars(v)) for k, v in self.model.items()}
        for t in transfers:
            d, c = effect(Phase.pending if t.pending else Phase.posted, t.amount)
            expected.setdefault(t.debit.id, Balance()).add(d)
            expected.setdefault(t.credit.id, Balance()).add(c)
            self.refs[t.debit.id], self.refs[t.credit.id] = t.debit, t.credit
        fits = all(b.within_limits(self.refs[k].limited) for k, b in expected.items())
        try:
            ids = self.books.run(go())
        except ledger.InsufficientFunds:
            assert not fits, "refused although every account could afford it"
            return None
        assert fits, "accepted although an account is overdrawn"
        self.model = expected
        for t, i in zip(transfers, ids, strict=True):
            if t.pending:
                self.pending[i] = (t.debit.id, t.credit.id, t.amount)
        return ids

    def resolve(self, ids: list[str], post: bool) -> bool:
        async def go() -> None:
            async with self.books.db.session() as s:
                await ledger.resolve(s, ids, post=post)
                await s.commit()

        try:
            self.books.run(go())
        except (ledger.AlreadyResolved, IntegrityError):
            assert any(i in self.resolved for i in ids)
            return False
        assert not any(i in self.resolved for i in ids), "a pending transfer resolved twice"
        for i in ids:
            debit, credit, amount = self.pending[i]
            d, c = effect(Phase.post if post else Phase.void, amount)
            self.model[debit].add(d)
            self.model[credit].add(c)
            self.resolved.add(i)
        return True

    def available(self, refs: list[AccountRef]) -> dict[str, int]:
        return {r.funder: self.left(r) for r in refs}

    def left(self, ref: AccountRef) -> int:
        return self.model.get(ref.id, Balance()).available

    # ------------------------------------------------------------ rules

    @rule(target=budgets, amounts=st.lists(st.integers(1, 50_000), min_size=2, max_size=2))
    def open_budget(self, amounts: list[int]) -> str:
        budget = uuid.uuid4().hex
        self.apply([NewTransfer(funder_account(self.region, f), budget_account(self.region, f,
                                budget), a, TransferKind.funding)
                    for f, a in zip(FUNDERS, amounts, strict=True)],
                   ledger.Refs(f"budget:{budget}", budget))
        return budget

    @rule(budget=budgets, funder=st.sampled_from(FUNDERS), amount=st.integers(1, 20_000))
    def top_up(self, budget: str, funder: str, amount: int) -> None:
        self.apply([NewTransfer(funder_account(self.region, funder),
                                budget_account(self.region, funder, budget), amount,
                                TransferKind.funding)], ledger.Refs(f"budget:{budget}", budget))

    @rule(target=vouchers, budget=budgets, value=st.integers(1, 30_000))
    def issue(self, budget: str, value: int) -> Any:
        accounts = [budget_account(self.region, f, budget) for f in FUNDERS]
        have = self.available(accounts)
        parts = split(min(value, sum(have.values())), have) if sum(have.values()) else {}
        if sum(parts.values()) < value:  # more than the budget holds: refused whole
            parts = {f: value // 2 + (value % 2 if f == FUNDERS[0] else 0) for f in FUNDERS}
        voucher = uuid.uuid4().hex
        transfers = [NewTransfer(a, voucher_account(self.region, a.funder, voucher),
                                 parts[a.funder], TransferKind.issue)
                     for a in accounts if parts[a.funder] > 0]
        new = tuple(t.credit for t in transfers)
        if not transfers or self.apply(transfers, ledger.Refs(f"voucher:{voucher}", budget,
                                                              voucher), new) is None:
            return multiple()
        return (budget, voucher)

    @rule(target=claims, voucher=vouchers, amount=st.integers(1, 20_000))
    def claim(self, voucher: tuple[str, str], amount: int) -> Any:
        budget, v = voucher
        accounts = [voucher_account(self.region, f, v) for f in FUNDERS]
        have = self.available(accounts)
        if sum(have.values()) == 0:
            return multiple()
        parts = split(min(amount, sum(have.values())), have)
        transfers = [NewTransfer(a, payable_account(self.region, a.funder, budget, "p1"),
                                 parts[a.funder], TransferKind.claim, pending=True)
                     for a in accounts if parts[a.funder] > 0]
        ids = self.apply(transfers, ledger.Refs(f"claim:{uuid.uuid4().hex}", budget, v, "p1"))
        return multiple() if ids is None else ids

    @rule(voucher=vouchers, funder=st.sampled_from(FUNDERS), amount=st.integers(1, 40_000))
    def overdraw_attempt(self, voucher: tuple[str, str], funder: str, amount: int) -> None:
        """Any amount, affordable or not: the ledger decides, the model checks."""
        budget, v = voucher
        self.apply([NewTransfer(voucher_account(self.region, funder, v),
                                payable_account(self.region, funder, budget, "p2"), amount,
                                TransferKind.claim, pending=True)],
                   ledger.Refs(f"claim:{uuid.uuid4().hex}", budget, v, "p2"))

    @rule(ids=claims, post=st.booleans())
    def decide(self, ids: list[str], post: bool) -> None:
        self.resolve(ids, post)

    @rule(voucher=vouchers)
    def give_back(self, voucher: tuple[str, str]) -> None:
        budget, v = voucher
        accounts = [voucher_account(self.region, f, v) for f in FUNDERS]
        transfers = [NewTransfer(a, budget_account(self.region, a.funder, budget), left,
                                 TransferKind.give_back)
                     for a in accounts if (left := self.left(a)) > 0]
        if transfers:
            self.apply(transfers, ledger.Refs(f"voucher:{v}", budget, v))

    @rule(budget=budgets)
    def pay_batch(self, budget: str) -> None:
        payables = [payable_account(self.region, f, budget, p) for f in FUNDERS
                    for p in ("p1", "p2")]
        transfers = [NewTransfer(a, clearing_account(self.region, a.funder), left,
                                 TransferKind.payment, pending=True)
                     for a in payables if (left := self.left(a)) > 0]
        if transfers:
            ids = self.apply(transfers, ledger.Refs(f"batch:{uuid.uuid4().hex}", budget))
            if ids:
                self.batches.append(ids)

    @rule(data=st.data(), post=st.booleans())
    def settle_batch(self, data: st.DataObject, post: bool) -> None:
        if self.batches:
            self.resolve(data.draw(st.sampled_from(self.batches)), post)

    @rule(budget=budgets)
    def close(self, budget: str) -> None:
        accounts = [budget_account(self.region, f, budget) for f in FUNDERS]
        transfers = [NewTransfer(a, funder_account(self.region, a.funder), left,
                                 TransferKind.close)
                     for a in accounts if (left := self.left(a)) > 0]
        if transfers:
            self.apply(transfers, ledger.Refs(f"budget:{budget}", budget))

    @rule(budget=budgets)
    def wrong_route_is_refused(self, budget: str) -> None:
        with pytest.raises(InvalidTransfer):
            NewTransfer(budget_account(self.region, "region", budget),
                        payable_account(self.region, "region", budget, "p1"), 1,
                        TransferKind.claim, pending=True).check()
        with pytest.raises(InvalidTransfer):  # across funders: never
            NewTransfer(budget_account(self.region, "region", budget),
                        voucher_account(self.region, "837", "v"), 1, TransferKind.issue).check()

    # ------------------------------------------------------------ invariants

    @invariant()
    def books_agree_with_the_model_and_balance(self) -> None:
        async def read() -> tuple[dict[str, Balance], dict[str, Balance], tuple[Any, ...],
                                  list[Any]]:
            async with self.books.db.reader() as s:
                stored = await ledger.balances(s, list(self.model))
                recomputed = await _recompute(s, self.region)
                sums = (await s.execute(select(
                    func.sum(A.c.debits_pending), func.sum(A.c.credits_pending),
                    func.sum(A.c.debits_posted), func.sum(A.c.credits_posted)))).one()
                mismatches = await ledger.usage_mismatches(s)
            return stored, recomputed, tuple(sums), mismatches

        stored, recomputed, sums, mismatches = self.books.run(read())
        assert mismatches == [], "running usage totals differ from the transfers"
        for account_id, expected in self.model.items():
            assert vars(stored[account_id]) == vars(expected), account_id
            assert vars(recomputed.get(account_id, Balance())) == vars(expected), account_id
            assert expected.within_limits(self.refs[account_id].limited)
        dp, cp, dpo, cpo = (int(x or 0) for x in sums)
        assert dp == cp and dpo == cpo, "total debits differ from total credits"


async def _recompute(s: Any, region: str) -> dict[str, Balance]:
    """Every account's totals recomputed from the transfers alone."""
    out: dict[str, Balance] = {}
    rows = (await s.execute(select(T.c.debit_account_id, T.c.credit_account_id, T.c.phase,
                                   T.c.amount).where(T.c.region == region))).all()
    for debit, credit, phase, amount in rows:
        d, c = effect(Phase(phase), int(amount))
        out.setdefault(debit, Balance()).add(d)
        out.setdefault(credit, Balance()).add(c)
    return out


def _run(books: Books, examples: int, steps: int) -> None:
    LedgerMachine.books = books
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_ledger_state_machine_sqlite(sqlite_books: Books) -> None:
    _run(sqlite_books, examples=40, steps=30)


def test_ledger_state_machine_postgresql(postgres_books: Books) -> None:
    _run(postgres_books, examples=10, steps=25)


def test_transfers_cannot_be_changed_or_removed(sqlite_books: Books) -> None:
    machine = LedgerMachine()
    machine.books = sqlite_books
    budget = machine.open_budget([100, 100])

    async def tamper(sql: str) -> None:
        async with sqlite_books.db.session() as s:
            await s.execute(text(sql), {"b": budget})
            await s.commit()

    for sql in ("UPDATE ledger_transfer SET amount = 1 WHERE budget_id = :b",
                "DELETE FROM ledger_transfer WHERE budget_id = :b"):
        with pytest.raises((IntegrityError, DBAPIError)):
            sqlite_books.run(tamper(sql))


@pytest.mark.parametrize("backend", ["sqlite_books", "postgres_books"])
def test_concurrent_additions_to_one_running_total_all_count(
        backend: str, request: pytest.FixtureRequest) -> None:
    """Twenty transactions at once claim from twenty vouchers of one budget for twenty
    providers: no account is shared, only the budget's running total of pending claims. Each
    holds its transaction open a moment after adding, so on PostgreSQL they overlap and queue
    on the row; every one of them counts."""
    books: Books = request.getfixturevalue(backend)
    region, budget, n = f"r{uuid.uuid4().hex[:8]}", str(uuid.uuid4()), 20
    vouchers = [str(uuid.uuid4()) for _ in range(n)]
    b = budget_account(region, "region", budget)

    async def setup() -> None:
        async with books.db.session() as s:
            funding = NewTransfer(funder_account(region, "region"), b, 100 * n,
                                  TransferKind.funding)
            issues = [NewTransfer(b, voucher_account(region, "region", v), 100,
                                  TransferKind.issue) for v in vouchers]
            await ledger.open_accounts(s, [funding.debit, b])
            await ledger.transfer(s, [funding], ledger.Refs(f"budget:{budget}", budget))
            await ledger.transfer(s, issues, [ledger.Refs(f"voucher:{v}", budget, v)
                                              for v in vouchers],
                                  new_accounts=[t.credit for t in issues])
            await s.commit()

    async def claim(v: str) -> None:
        t = NewTransfer(voucher_account(region, "region", v),
                        payable_account(region, "region", budget, f"p-{v}"), 30,
                        TransferKind.claim, pending=True)
        async with books.db.session() as s:
            await ledger.open_accounts(s, [t.credit])
            await ledger.transfer(s, [t], ledger.Refs(f"claim:{v}", budget, v))
            await asyncio.sleep(0.05)
            await s.commit()

    async def run() -> tuple[Any, Any]:
        await setup()
        await asyncio.gather(*(claim(v) for v in vouchers))
        async with books.db.reader() as s:
            return (await ledger.usage_sums(s, [budget]),
                    await ledger.usage_sums_from_transfers(s, [budget]))

    kept, recomputed = books.run(run())
    assert kept[budget]["region"] == {("funding", "posted"): 100 * n,
                                      ("issue", "posted"): 100 * n,
                                      ("claim", "pending"): 30 * n}
    assert kept == recomputed
