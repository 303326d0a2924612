"""Issuance by a region admin, one at a time (bulk issuance reuses :func:`prepare` and
:func:`write`). The henkilötunnus is validated, turned into the person key the gateway makes
at login, and kept only encrypted; it never reaches an answer, a log line or an event."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from contracts.voucher import HolderKind, VoucherIssued
from kit import audit
from kit.db import Database
from kit.errors import Conflict, Problem, Unprocessable
from kit.idempotency import Once
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
from services.voucher.use_cases.common import now, once, today, voucher_event, voucher_out


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


def prepare(body: VoucherIn, budget: Budget, scheme: list[dict[str, Any]], settings: Settings,
            cipher: CodeCipher, principal: Principal) -> Prepared:
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
        await insert_vouchers(s, [v])
        # The budget's rows last, so that concurrent issuances wait for them briefly.
        held = await ledger.owned(s, AccountKind.budget, budget.id, lock=True)
        issued, refused, transfers = allocate(budget, held, [v])
        if refused:
            available = sum(b.available for _, b in held.values())
            raise Conflict(f"the budget holds {available} cents; this voucher needs "
                           f"{body.value_cents}", type="/problems/insufficient-funds")
        try:
            await fund(s, principal, budget, issued, transfers)
        except ledger.InsufficientFunds:
            raise Conflict("the budget does not hold enough money for this voucher",
                           type="/problems/insufficient-funds") from None
        return voucher_out(v, principal, 0)

    payload = body.model_dump(mode="json")
    payload["holder"] = _holder_fingerprint(body, settings)
    return await once(db, principal, "POST /vouchers", key, payload, work, VoucherOut)


async def _prepare_one(db: Database, settings: Settings, principal: Principal,
                       body: VoucherIn) -> Prepared:
    async with db.reader() as r:
        budget = await open_budget_of(r, principal, body.budget_id)
        st = await repository.service_type(r, budget.service_type)
    if st is None:
        raise Conflict("the service type's payment scheme has not reached the voucher "
                       "service yet", type="/problems/unknown-service-type")
    cipher = CodeCipher(settings.hetu_encryption_key)
    return prepare(body, budget, st.payment_scheme, settings, cipher, principal)


def _holder_fingerprint(body: VoucherIn, settings: Settings) -> str:
    """What identifies the holder in the stored request hash: a keyed hash of what was sent,
    never the code (an unkeyed hash of a henkilötunnus could be reversed by trying them all)."""
    if isinstance(body.holder, CompanyHolder):
        return f"company:{body.holder.business_id}"
    raw = body.holder.henkilotunnus.get_secret_value().strip().upper()
    return "person:" + hmac.new(settings.person_key_secret.encode(), raw.encode(),
                                hashlib.sha256).hexdigest()
