"""Issuance by a region admin, one at a time (bulk issuance reuses :func:`prepare` and
:func:`write`). The henkilötunnus is validated, turned into the person key the gateway makes
at login, and kept only encrypted; it never reaches an answer, a log line or an event."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from contracts.voucher import HolderKind, VoucherIssued
from kit import audit
from kit.db import Database, insert_ignoring_conflicts
from kit.errors import Conflict, Problem, Unprocessable
from kit.idempotency import MAX_KEY_LENGTH, Once, request_hash
from kit.outbox import add_events
from kit.persons import CodeCipher, InvalidPersonCode, key_of_normalised, normalise_hetu
from services.voucher import access, ledger, repository
from services.voucher.domain.codes import RANDOM_BYTES, make_code
from services.voucher.domain.issuance import IssuanceRefused, business_id, window
from services.voucher.domain.ledger import (
    AccountKind,
    AccountRef,
    Balance,
    NewTransfer,
    TransferKind,
    voucher_account,
)
from services.voucher.domain.money import split
from services.voucher.models import Budget, Voucher, audit_log, plumbing
from services.voucher.schemas import CompanyHolder, VoucherIn, VoucherOut
from services.voucher.settings import Settings
from services.voucher.use_cases.common import (
    now,
    once,
    scope,
    today,
    voucher_event,
    voucher_out,
)
from services.voucher.use_cases.group_commit import Decided, Lanes, Ticket


@dataclass
class Prepared:
    """A voucher that passed every rule, not yet written: its column values, readable as
    attributes like a :class:`Voucher` (without the ORM's bookkeeping, which bulk issuance of
    thousands of rows cannot afford)."""

    voucher: Voucher


async def open_budget_of(s: AsyncSession, principal: Principal, budget_id: str) -> Budget:
    """The admin's open budget whose period has not ended, or the reason why not."""
    b = await repository.budget(s, budget_id)
    if b is None or not access.is_region_admin(principal, b.region):
        raise Unprocessable.field("budget_id", "no such budget in your region")
    if b.status != "open":
        raise Conflict("the budget is closed", type="/problems/budget-closed")
    if today() > b.period_end:
        raise Conflict("the budget's period has ended", type="/problems/budget-period-ended")
    return b


def prepare(body: VoucherIn, budget: Budget | BudgetFacts, scheme: list[dict[str, Any]],
            settings: Settings, cipher: CodeCipher, principal: Principal) -> Prepared:
    """Apply every rule to one request (no I/O): :class:`IssuanceRefused` names the field."""
    w = window(today(), valid_until=body.valid_until, choice_deadline=body.choice_deadline,
               validity_days=settings.validity_days, choice_days=settings.choice_days)
    voucher_id = str(uuid7())
    key = hetu_ct = company = None
    if isinstance(body.holder, CompanyHolder):
        company = business_id(body.holder.business_id)
        kind = HolderKind.company
    else:
        try:
            code = normalise_hetu(body.holder.henkilotunnus.get_secret_value(),
                                  allow_temporary=settings.hetu_allow_temporary)
        except InvalidPersonCode:
            raise IssuanceRefused("holder.henkilotunnus",
                                  "is not a valid personal identity code") from None
        key = key_of_normalised(settings.person_key_secret, code)
        hetu_ct = cipher.encrypt(code, associated=voucher_id)
        kind = HolderKind.person
    profile = body.profile.model_dump(mode="json") if kind is HolderKind.person else {}
    return Prepared(draft(
        id=voucher_id, code=make_code(secrets.token_bytes(RANDOM_BYTES)), budget_id=budget.id,
        region=budget.region, service_type=budget.service_type, holder_kind=kind.value,
        person_key=key, hetu_ciphertext=hetu_ct, business_id=company,
        home_municipality=body.home_municipality, languages=sorted(set(body.languages)),
        remote_suits=body.remote_suits, profile=profile, value_cents=body.value_cents,
        payment_scheme=scheme, valid_until=w.valid_until, choice_deadline=w.choice_deadline,
        state="issued", provider_id=None, offering_id=None, chosen_by=None,
        co_payment_cents=0, version=1, issued_at=now(), issued_by=principal.sub))


VOUCHERS = cast(Table, Voucher.__table__)
COLUMNS = tuple(c.key for c in VOUCHERS.columns)


def draft(**values: Any) -> Voucher:
    row = dict.fromkeys(COLUMNS) | values
    return cast(Voucher, SimpleNamespace(**row))


def allocate(budget: Budget, held: dict[str, tuple[AccountRef, Balance]],
             vouchers: list[Voucher]) -> tuple[list[Voucher], list[Voucher], list[NewTransfer]]:
    """Split each voucher's value across the budget's funders in proportion to what each still
    holds (largest remainder), in order, until the money runs out: (issued, refused,
    transfers). The conditional updates of the ledger enforce the same limit again."""
    left = {f: balance.available for f, (_, balance) in held.items()}
    issued, refused, transfers = [], [], []
    for v in vouchers:
        if sum(left.values()) < v.value_cents:
            refused.append(v)
            continue
        parts = split(v.value_cents, left)
        for funder, amount in sorted(parts.items()):
            if amount:
                left[funder] -= amount
                transfers.append(NewTransfer(held[funder][0], voucher_account(
                    budget.region, funder, v.id), amount, TransferKind.issue))
        issued.append(v)
    return issued, refused, transfers


async def insert_vouchers(s: AsyncSession, vouchers: list[Voucher]) -> None:
    """The vouchers' rows and their voucher.issued events: rows no other transaction touches."""
    if vouchers:
        await s.execute(insert(VOUCHERS), [{c: getattr(v, c) for c in COLUMNS}
                                           for v in vouchers])
        await add_events(s, plumbing, [(voucher_event(VoucherIssued, v), v.id) for v in vouchers])


async def fund(s: AsyncSession, principal: Principal, budget: Budget, vouchers: list[Voucher],
               transfers: list[NewTransfer]) -> None:
    """The vouchers' accounts (created with their money), the transfers out of the budget and
    one audit entry per voucher, each in as few statements as the database allows."""
    if not vouchers:
        return
    await ledger.transfer(
        s, transfers,
        [ledger.Refs(f"voucher:{t.credit.owner}", budget.id, t.credit.owner) for t in transfers],
        new_accounts=[t.credit for t in transfers])
    await audit.record_many(s, audit_log, actor=principal, chain=budget.region, entries=[
        audit.Entry("voucher.issued", "voucher", v.id, "voucher issued", budget.region,
                    {"budget_id": budget.id, "value_cents": v.value_cents,
                     "holder_kind": v.holder_kind}) for v in vouchers])


def as_problem(exc: IssuanceRefused) -> Problem:
    return Unprocessable.field(exc.field, exc.message)


ROUTE = "POST /vouchers"


async def issue(db: Database, settings: Settings, principal: Principal, body: VoucherIn,
                key: str | None) -> Once[VoucherOut]:
    access.admin_region(principal)
    # The work that takes no lock is done before the write transaction begins: the rules, the
    # keyed hash and the encryption hold no budget row (and, on SQLite, not the writer).
    early: Problem | None = None
    try:
        prepared = await _prepare_one(db, settings, principal, body)
    except (Problem, IssuanceRefused) as exc:
        early = as_problem(exc) if isinstance(exc, IssuanceRefused) else exc

    async def work(s: AsyncSession) -> VoucherOut:
        if early is not None:
            raise early  # under the key: a retry gets the same refusal
        budget = await open_budget_of(s, principal, body.budget_id)  # again, in the transaction
        v = prepared.voucher
        await with_scheme(s, budget, [v])
        await insert_vouchers(s, [v])
        # The budget's rows last, so that concurrent issuances wait for them briefly.
        held = await ledger.owned(s, AccountKind.budget, budget.id, lock=True)
        issued, refused, transfers = allocate(budget, held, [v])
        if refused:
            raise short_of_money(sum(b.available for _, b in held.values()), v.value_cents)
        try:
            await fund(s, principal, budget, issued, transfers)
        except ledger.InsufficientFunds:
            raise Conflict("the budget does not hold enough money for this voucher",
                           type="/problems/insufficient-funds") from None
        return voucher_out(v, principal, 0)

    payload = body.model_dump(mode="json")
    payload["holder"] = _holder_fingerprint(body, settings)

    async def alone() -> Once[VoucherOut]:
        return await once(db, principal, ROUTE, key, payload, work, VoucherOut)

    if (early is not None or settings.issuance_batch_max <= 1
            or (key is not None and not 0 < len(key) <= MAX_KEY_LENGTH)):
        return await alone()
    # Concurrent issuances by this admin from this budget are written together (one
    # transaction, one turn of the budget's accounts and of the audit chain's head).
    waiting = Waiting(db, principal, body.budget_id, key, request_hash(payload),
                      prepared.voucher)
    lane = (id(db), body.budget_id, principal.sub, principal.role, principal.region)
    return await TOGETHER.submit(lane, Ticket(alone, waiting), settings.issuance_batch_max)


def short_of_money(available: int, value_cents: int) -> Conflict:
    return Conflict(f"the budget holds {available} cents; this voucher needs {value_cents}",
                    type="/problems/insufficient-funds")


@dataclass(frozen=True)
class Waiting:
    """A single issuance that passed every rule, waiting to be written with others."""

    db: Database
    principal: Principal
    budget_id: str
    key: str | None
    digest: str
    voucher: Voucher


async def _write_together(batch: list[Ticket[Once[VoucherOut]]]) -> Decided[Once[VoucherOut]]:
    """Issue a batch of waiting issuances (one admin, one budget) in one transaction: their
    Idempotency-Keys claimed together, the budget's accounts locked once, the value of each
    voucher allocated in order (one the budget cannot cover any more is refused on its own,
    as alone), the vouchers, their accounts, transfers, events and audit entries written in
    a statement each, and each answer (a refusal too) stored under its key. A request whose
    key was seen before, or is claimed by another transaction, runs alone afterwards (the
    ordinary path replays or refuses it)."""
    first: Waiting = batch[0].data
    db, principal = first.db, first.principal
    keys, key_scope = plumbing.idempotency, scope(principal, ROUTE)
    decided: Decided[Once[VoucherOut]] = Decided()
    outcomes: dict[Ticket[Once[VoucherOut]], VoucherOut | Problem] = {}
    async with db.session() as s:
        wanted = {t.data.key for t in batch if t.data.key is not None}
        seen = set(await s.scalars(select(keys.c.key).where(
            keys.c.scope == key_scope, keys.c.key.in_(wanted)))) if wanted else set()
        members = []
        for t in batch:
            if t.data.key is not None and t.data.key in seen:
                decided.alone.append(t)  # a retry, or the same key twice in this batch
                continue
            seen.add(t.data.key)
            members.append(t)
        claims = [dict(scope=key_scope, key=t.data.key, request_hash=t.data.digest,
                       status_code=0, body="", created_at=now())
                  for t in members if t.data.key is not None]
        if claims:
            claimed = set(await s.scalars(
                insert_ignoring_conflicts(s, keys, claims).returning(keys.c.key)))
            decided.alone += [t for t in members if t.data.key not in claimed | {None}]
            members = [t for t in members if t.data.key in claimed | {None}]
        try:
            budget = await open_budget_of(s, principal, first.budget_id)
            await with_scheme(s, budget, [t.data.voucher for t in members])
        except Problem as refusal:
            outcomes = dict.fromkeys(members, refusal)
        else:
            held = await ledger.owned(s, AccountKind.budget, budget.id, lock=True)
            issued, poor, transfers = allocate(budget, held, [t.data.voucher for t in members])
            await insert_vouchers(s, issued)
            await fund(s, principal, budget, issued, transfers)  # raises: each alone
            left, refused = sum(b.available for _, b in held.values()), {v.id for v in poor}
            for t in members:
                v = t.data.voucher
                if v.id in refused:
                    outcomes[t] = short_of_money(left, v.value_cents)
                else:
                    left -= v.value_cents
                    outcomes[t] = voucher_out(v, principal, 0)
        answers = [dict(k=t.data.key, st=_status(o), b=_stored(o))
                   for t, o in outcomes.items() if t.data.key is not None]
        if answers:
            await s.execute(update(keys).where(keys.c.scope == key_scope,
                                               keys.c.key == bindparam("k"))
                            .values(status_code=bindparam("st"), body=bindparam("b")), answers)
        await s.commit()
    decided.answers = [(t, Once(o) if isinstance(o, VoucherOut) else o)
                       for t, o in outcomes.items()]
    return decided


def _status(outcome: VoucherOut | Problem) -> int:
    return outcome.status if isinstance(outcome, Problem) else 0


def _stored(outcome: VoucherOut | Problem) -> str:
    """The answer as ``kit.idempotency.run_once`` keeps it (a refusal as its problem body)."""
    if isinstance(outcome, Problem):
        return json.dumps({"type": outcome.type, "title": outcome.title,
                           "status": outcome.status, "detail": outcome.detail,
                           "errors": [e.model_dump() for e in outcome.errors]
                           if outcome.errors else None}, default=str)
    return outcome.model_dump_json()


TOGETHER: Lanes[Once[VoucherOut]] = Lanes(_write_together)


@dataclass(frozen=True)
class BudgetFacts:
    """What never changes about a budget: its region and its service type."""

    id: str
    region: str
    service_type: str


_FACTS: dict[str, BudgetFacts] = {}  # by budget id (time-ordered UUIDs: unique everywhere)


async def _prepare_one(db: Database, settings: Settings, principal: Principal,
                       body: VoucherIn) -> Prepared:
    """The rules of one request, before its transaction. A budget seen before is not read
    again (its region and service type never change; whether it is still open, and the
    service type's payment scheme, are read in the transaction)."""
    facts = _FACTS.get(body.budget_id)
    if facts is None:
        async with db.reader() as r:
            b = await open_budget_of(r, principal, body.budget_id)
        if len(_FACTS) >= 10_000:
            _FACTS.clear()
        facts = _FACTS[b.id] = BudgetFacts(b.id, b.region, b.service_type)
    elif not access.is_region_admin(principal, facts.region):
        raise Unprocessable.field("budget_id", "no such budget in your region")
    cipher = CodeCipher(settings.hetu_encryption_key)
    return prepare(body, facts, [], settings, cipher, principal)


async def with_scheme(s: AsyncSession, budget: Budget, vouchers: list[Voucher]) -> None:
    """The service type's payment scheme, copied onto each voucher."""
    st = await repository.service_type(s, budget.service_type)
    if st is None:
        raise Conflict("the service type's payment scheme has not reached the voucher "
                       "service yet", type="/problems/unknown-service-type")
    for v in vouchers:
        v.payment_scheme = st.payment_scheme


def _holder_fingerprint(body: VoucherIn, settings: Settings) -> str:
    """What identifies the holder in the stored request hash: a keyed hash of what was sent,
    never the code (an unkeyed hash of a henkilötunnus could be reversed by trying them all)."""
    if isinstance(body.holder, CompanyHolder):
        return f"company:{body.holder.business_id}"
    raw = body.holder.henkilotunnus.get_secret_value().strip().upper()
    return "person:" + hmac.new(settings.person_key_secret.encode(), raw.encode(),
                                hashlib.sha256).hexdigest()
