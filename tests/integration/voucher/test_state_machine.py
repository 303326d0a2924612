"""The whole voucher service against its invariants: a hypothesis state machine issues, chooses,
changes, starts, completes, claims, approves, rejects, cancels, expires, tops up, transfers, pays
a batch, confirms or fails it, closes the budget, and replays any earlier request, in random
order, through the HTTP API of the running service (beside a real registry, on a real broker).
After every step:

- debits equal credits, pending and posted; no limited account below zero; every account's
  totals equal a recomputation from the transfers; no transfer crosses funders;
- per voucher paid ≤ approved ≤ value, and no milestone is posted twice;
- a voucher that expired or was cancelled holds only what pending claims reserve;
- the budget's usage in the API equals a recomputation from the transfers, and
  funded = available + committed + spent; every budget's running usage totals equal the sums
  of its transfers;
- a replayed request gets its first answer and changes nothing.

SQLite always; a shorter run on PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select, update

from services.voucher import ledger
from services.voucher.domain.ledger import Balance, Phase, effect
from services.voucher.domain.usage import usage
from services.voucher.models import Claim, LedgerAccount, LedgerTransfer, Voucher
from services.voucher.use_cases.lifecycle import run_deadlines
from tests.integration.registry.conftest import Registry
from tests.integration.voucher.conftest import HETU, Market, apps
from tests.support import DbFactory, empty_broker, running

A, T = LedgerAccount.__table__, LedgerTransfer.__table__
EXAMPLES = itertools.count(1)


@dataclass
class World:
    market: Market
    loop: asyncio.AbstractEventLoop
    offerings: list[tuple[str, str]]  # (provider, offering)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@contextlib.contextmanager
def world(backend: str, tmp: Path, nats_url: str) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(empty_broker(nats_url))
    factory = DbFactory(backend, tmp)
    reg, vou, reg_settings, settings = apps(factory, nats_url)
    stack = contextlib.AsyncExitStack()
    try:
        r = loop.run_until_complete(stack.enter_async_context(running(reg)))
        v = loop.run_until_complete(stack.enter_async_context(running(vou)))
        market = Market(v, vou, Registry(r, reg, nats_url, reg_settings.principal_secret),
                        settings)
        loop.run_until_complete(market.catalogue())
        offerings = [loop.run_until_complete(market.offering(700 + i, capacity=10_000))
                     for i in range(2)]
        yield World(market, loop, offerings)
    finally:
        loop.run_until_complete(stack.aclose())
        loop.run_until_complete(factory.cleanup())
        loop.close()


class VoucherMachine(RuleBasedStateMachine):
    w: World

    def __init__(self) -> None:
        super().__init__()
        m = self.w.market
        self.n = next(EXAMPLES)
        self.keys = itertools.count()
        self.history: list[tuple[str, str, Any, dict[str, str], int, Any]] = []
        start = date.today().replace(day=1) - timedelta(days=3 * self.n)
        self.budget = self.send("POST", "/budgets", m.admin(), {
            "service_type": "job-search-coaching", "period_start": start.isoformat(),
            "period_end": (date.today() + timedelta(days=400)).isoformat(),
            "funders": [{"funder": "region", "amount_cents": 250_000},
                        {"funder": "837", "amount_cents": 150_000}]})[1]["id"]
        self.states: dict[str, str] = {}

    @property
    def vouchers(self) -> list[str]:
        return list(self.states)

    # ------------------------------------------------------------ helpers

    def send(self, method: str, url: str, headers: dict[str, str],
             body: Any = None) -> tuple[int, Any]:
        key = f"sm-{self.n}-{next(self.keys)}"
        headers = headers | {"Idempotency-Key": key}
        r: httpx.Response = self.w.run(self.w.market.client.request(
            method, url, json=body, headers=headers))
        assert r.status_code < 500, r.text
        self.history.append((method, url, body, headers, r.status_code, r.json()))
        return r.status_code, r.json()

    def voucher(self, vid: str) -> dict[str, Any]:
        r = self.w.run(self.w.market.client.get(f"/vouchers/{vid}",
                                                headers=self.w.market.admin()))
        body: dict[str, Any] = r.json()
        return body

    def provider_of(self, vid: str) -> dict[str, str]:
        provider = self.voucher(vid)["provider_id"] or self.w.offerings[0][0]
        return self.w.market.staff(provider)

    # ------------------------------------------------------------ rules

    def in_state(self, *states: str) -> list[str]:
        return [v for v, state in self.states.items() if state in states]

    def track(self, status: int, body: Any) -> None:
        if status in (200, 201) and isinstance(body, dict) and "state" in body:
            self.states[body["id"]] = body["state"]

    @rule(value=st.integers(1, 120_000))
    def issue(self, value: int) -> None:
        status, body = self.send("POST", "/vouchers", self.w.market.admin(), {
            "budget_id": self.budget, "value_cents": value,
            "holder": {"kind": "person", "henkilotunnus": HETU}})
        assert status in (201, 409), body
        self.track(status, body)

    @precondition(lambda self: self.in_state("issued", "chosen"))
    @rule(data=st.data(), which=st.integers(0, 1))
    def choose(self, data: st.DataObject, which: int = 0) -> None:
        vid = data.draw(st.sampled_from(self.in_state("issued", "chosen")))
        status, body = self.send("POST", f"/vouchers/{vid}/choice", self.w.market.citizen(),
                                 {"offering_id": self.w.offerings[which][1]})
        assert status == 200, body
        self.track(status, body)

    @precondition(lambda self: self.in_state("chosen", "started"))
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        vid = data.draw(st.sampled_from(self.in_state("chosen", "started")))
        step = "start" if self.states[vid] == "chosen" else "completion"
        status, body = self.send("POST", f"/vouchers/{vid}/{step}", self.provider_of(vid),
                                 {"evidence": "seen"})
        assert status == 200, body
        self.track(status, body)

    @precondition(lambda self: self.in_state("completed"))
    @rule(data=st.data(), outcome=st.sampled_from(["employed", "studying"]))
    def outcome(self, data: st.DataObject, outcome: Any = "employed") -> None:
        vid = data.draw(st.sampled_from(self.in_state("completed")))
        status, body = self.send("POST", f"/vouchers/{vid}/milestones", self.provider_of(vid),
                                 {"milestone": "outcome", "evidence": "contract",
                                  "outcome": outcome})
        assert status in (200, 409), body  # 409: reported already, or the outcome is settled

    @precondition(lambda self: self.in_state("issued", "chosen", "started", "completed"))
    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """The next step of a voucher's usual life (weighted: the deep states need it)."""
        vid = data.draw(st.sampled_from(self.in_state("issued", "chosen", "started",
                                                      "completed")))
        {"issued": self.choose, "chosen": self.deliver, "started": self.deliver,
         "completed": self.outcome}[self.states[vid]](_Fixed(vid))  # type: ignore[operator]

    advance_again = advance

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data(), step=st.sampled_from(["start", "completion", "choice"]))
    def out_of_turn(self, data: st.DataObject, step: str) -> None:
        """Any step on any voucher, allowed or not: refused cleanly or done."""
        vid = data.draw(st.sampled_from(self.vouchers))
        body = ({"offering_id": self.w.offerings[0][1]} if step == "choice"
                else {"evidence": "x"})
        who = self.w.market.citizen() if step == "choice" else self.provider_of(vid)
        status, answer = self.send("POST", f"/vouchers/{vid}/{step}", who, body)
        assert status in (200, 403, 404, 409), answer
        self.track(status, answer)

    @rule(data=st.data(), approve=st.booleans())
    def decide(self, data: st.DataObject, approve: bool) -> None:
        claims = self.w.run(self.w.market.client.get(
            "/claims?status=submitted&limit=200", headers=self.w.market.admin())).json()["items"]
        mine = [c["id"] for c in claims if c["voucher_id"] in self.vouchers]
        if not mine:
            return
        cid = data.draw(st.sampled_from(mine))
        body = ({"decision": "approve"} if approve else
                {"decision": "reject", "reason_code": "evidence_insufficient"})
        status, answer = self.send("POST", f"/claims/{cid}/decision", self.w.market.admin(),
                                   body)
        assert status in (200, 409), answer

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        vid = data.draw(st.sampled_from(self.vouchers))
        status, body = self.send("POST", f"/vouchers/{vid}/cancellation",
                                 self.w.market.admin(),
                                 {"reason_code": "holder_request", "reason": "asked"})
        assert status in (200, 409), body
        self.track(status, body)

    @precondition(lambda self: self.in_state("issued", "chosen"))
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        vid = data.draw(st.sampled_from(self.in_state("issued", "chosen")))

        async def past() -> None:
            async with self.w.market.db.session() as s:
                await s.execute(update(Voucher).where(Voucher.id == vid).values(
                    valid_until=date.today() - timedelta(days=1)))
                await s.commit()
            await run_deadlines(self.w.market.db)

        self.w.run(past())
        self.states[vid] = self.voucher(vid)["state"]

    @precondition(lambda self: self.in_state("started"))
    @rule(data=st.data(), which=st.integers(0, 1))
    def transfer(self, data: st.DataObject, which: int) -> None:
        vid = data.draw(st.sampled_from(self.in_state("started")))
        status, body = self.send("POST", f"/vouchers/{vid}/transfer", self.w.market.admin(),
                                 {"offering_id": self.w.offerings[which][1], "reason": "move"})
        assert status in (200, 409), body
        self.track(status, body)

    @rule(funder=st.sampled_from(["region", "837", "536"]), amount=st.integers(1, 100_000))
    def top_up(self, funder: str, amount: int) -> None:
        status, body = self.send("POST", f"/budgets/{self.budget}/top-ups",
                                 self.w.market.admin(),
                                 {"funder": funder, "amount_cents": amount, "reason": "more"})
        assert status in (200, 409), body

    @precondition(lambda self: len(self.states) >= 4)
    @rule()
    def close(self) -> None:
        """Close the budget: later give-backs follow its money to the funders."""
        status, body = self.send("POST", f"/budgets/{self.budget}/closure",
                                 self.w.market.admin(), {"reason": "period over"})
        assert status in (200, 409), body

    @rule()
    def pay(self) -> None:
        """The region's approved claims (earlier examples' too: one region) into a batch."""
        status, body = self.send("POST", "/payments", self.w.market.admin())
        assert status in (201, 409), body

    @rule(pick=st.integers(0, 1_000), paid=st.booleans())
    def settle(self, pick: int, paid: bool) -> None:
        """Confirm or fail an exported batch, if there is one. (Whether there is depends on
        the whole region, so the batch is picked by index, never drawn from a list.)"""
        batches = self.w.run(self.w.market.client.get(
            "/payments?limit=200", headers=self.w.market.admin())).json()["items"]
        open_ = [b["id"] for b in batches if b["status"] == "exported"]
        if not open_:
            return
        url = f"/payments/{open_[pick % len(open_)]}/" + ("confirmation" if paid else "failure")
        status, body = self.send("POST", url, self.w.market.admin(),
                                 None if paid else {"reason": "bank file refused"})
        assert status == 200, body

    @precondition(lambda self: self.history)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        method, url, body, headers, status, answer = data.draw(st.sampled_from(self.history))
        before = self.w.run(snapshot(self.w.market))
        r = self.w.run(self.w.market.client.request(method, url, json=body, headers=headers))
        assert (r.status_code, strip(r.json())) == (status, strip(answer)), (method, url)
        assert self.w.run(snapshot(self.w.market)) == before, "a replay changed something"

    # ------------------------------------------------------------ invariants

    @invariant()
    def money_is_where_the_transfers_say(self) -> None:
        self.w.run(check_books(self.w.market, self.budget))


class _Fixed:
    """Stands in for ``st.data()`` when a rule is called with a voucher already chosen."""

    def __init__(self, value: str) -> None:
        self.value = value

    def draw(self, _: Any) -> str:
        return self.value


def strip(answer: Any) -> Any:
    """A problem's request id and instance differ between two answers, nothing else does."""
    if isinstance(answer, dict):
        return {k: v for k, v in answer.items() if k not in ("request_id", "instance")}
    return answer


async def snapshot(m: Market) -> tuple[Any, ...]:
    async with m.db.reader() as s:
        totals = (await s.execute(select(func.sum(A.c.debits_pending), func.sum(A.c.debits_posted),
                                         func.count()))).one()
        transfers = await s.scalar(select(func.count()).select_from(T))
        vouchers = await s.scalar(select(func.sum(Voucher.version)))
        claims = await s.scalar(select(func.sum(Claim.version)))
    return (*totals, transfers, vouchers, claims)


async def check_books(m: Market, budget: str) -> None:
    async with m.db.reader() as s:
        accounts = {r.id: r for r in (await s.execute(select(A))).all()}
        transfers = (await s.execute(select(T))).all()
        claims = (await s.execute(select(Claim))).scalars().all()
        vouchers = (await s.execute(select(Voucher).where(Voucher.budget_id == budget)))\
            .scalars().all()
        assert await ledger.usage_mismatches(s) == [], "running usage totals differ"
    recomputed: dict[str, Balance] = defaultdict(Balance)
    sums: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for t in transfers:
        d, c = effect(Phase(t.phase), int(t.amount))
        recomputed[t.debit_account_id].add(d)
        recomputed[t.credit_account_id].add(c)
        assert accounts[t.debit_account_id].funder == accounts[t.credit_account_id].funder
        if t.budget_id == budget:
            sums[t.funder][(t.kind, t.phase)] += int(t.amount)
    totals = Balance()
    for account_id, a in accounts.items():
        stored = Balance(a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
        assert vars(stored) == vars(recomputed[account_id]), account_id
        assert stored.within_limits(a.debits_must_not_exceed_credits), account_id
        totals.add(stored)
    assert totals.debits_pending == totals.credits_pending
    assert totals.debits_posted == totals.credits_posted
    posted: dict[tuple[str, str], int] = defaultdict(int)
    by_voucher: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by_voucher[c.voucher_id].append(c)
        if c.status in ("approved", "paid"):
            posted[(c.voucher_id, c.milestone)] += 1
    assert all(n == 1 for n in posted.values()), "a milestone posted twice"
    for v in vouchers:
        approved = sum(c.amount_cents for c in by_voucher[v.id] if c.status in ("approved",
                                                                                 "paid"))
        paid = sum(c.amount_cents for c in by_voucher[v.id] if c.status == "paid")
        assert paid <= approved <= v.value_cents, v.id
        held = sum(a.credits_posted - a.debits_posted - a.debits_pending
                   for a in accounts.values() if a.kind == "voucher" and a.owner == v.id)
        if v.state in ("expired", "cancelled") or v.outcome is not None:
            assert held == 0, (v.id, v.state, held)  # only pending claims' reservations left
    r = await m.client.get(f"/budgets/{budget}", headers=m.admin())
    for f in r.json()["funders"]:
        u = usage(sums[f["funder"]])
        assert (f["funded_cents"], f["committed_cents"], f["spent_cents"], f["pending_cents"],
                f["released_cents"], f["available_cents"]) == (
            u.funded, u.committed, u.spent, u.pending, u.released, u.available)
        assert f["funded_cents"] == (f["available_cents"] + f["committed_cents"]
                                     + f["spent_cents"])
    whole: dict[tuple[str, str], int] = defaultdict(int)
    for by_kind in sums.values():
        for k, amount in by_kind.items():
            whole[k] += amount
    u = usage(whole)
    rows = (await m.client.get("/reports?by=budget", headers=m.admin())).json()["rows"]
    row = next(r for r in rows if r["key"] == budget)
    assert (row["funded_cents"], row["issued_cents"], row["spent_cents"], row["pending_cents"],
            row["released_cents"], row["available_cents"], row["paid_cents"]) == (
        u.funded, u.issued, u.spent, u.pending, u.released, u.available, u.paid)


def _run(w: World, examples: int, steps: int) -> None:
    VoucherMachine.w = w
    test = VoucherMachine.TestCase
    test.settings = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory, nats_url: str) -> Iterator[World]:
    with world("sqlite", tmp_path_factory.mktemp("sm"), nats_url) as w:
        yield w


def test_voucher_service_state_machine_sqlite(sqlite_world: World) -> None:
    _run(sqlite_world, examples=10, steps=35)


def test_voucher_service_state_machine_postgresql(tmp_path: Path, nats_url: str) -> None:
    if not os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL run of the state machine not done")
    with world("postgresql", tmp_path, nats_url) as w:
        _run(w, examples=4, steps=30)

