"""Bulk issuance: up to ``bulk_max_rows`` vouchers from one budget in one request (a CSV file or
a JSON list). Every row is checked on its own, so one bad row never affects another; the report
names each refused row by its line with the field and the reason. The good rows are issued in
one transaction with a handful of statements (vouchers, accounts, transfers, audit entries and
outbox rows each inserted in bulk), and the whole request is idempotent by its key."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from kit.db import Database
from kit.errors import FieldError, Problem, Unprocessable
from kit.idempotency import Once
from kit.persons import CodeCipher
from services.voucher import access, ledger
from services.voucher.domain.issuance import IssuanceRefused
from services.voucher.domain.ledger import AccountKind
from services.voucher.models import Budget, Voucher
from services.voucher.schemas import VoucherIn
from services.voucher.settings import Settings
from services.voucher.use_cases.common import once
from services.voucher.use_cases.issuance import (
    allocate,
    fund,
    insert_vouchers,
    open_budget_of,
    prepare,
    with_scheme,
)

CSV_COLUMNS = ("henkilotunnus", "business_id", "value_cents", "valid_until", "choice_deadline",
               "home_municipality", "languages", "remote_suits", "unemployment", "education",
               "earlier_services")
TRUE, FALSE = {"true", "1", "yes", "kyllä", "x"}, {"false", "0", "no", "ei", ""}


class RowResult(BaseModel):
    line: int
    status: Literal["issued", "refused"]
    voucher_id: str | None = None
    code: str | None = None
    errors: list[FieldError] = []


class BulkReport(BaseModel):
    budget_id: str
    rows: int
    issued: int
    refused: int
    issued_cents: int
    results: list[RowResult]


def rows_of_csv(text: str, max_rows: int) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row as a JSON-like dict) for each data row; line 1 is the header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), restkey="_extra")
    missing = [c for c in ("value_cents",) if c not in (reader.fieldnames or [])]
    unknown = [c for c in reader.fieldnames or [] if c not in CSV_COLUMNS]
    if missing or unknown or not reader.fieldnames:
        raise Unprocessable.field("file", "the header row must name columns among "
                                  + ", ".join(CSV_COLUMNS) + " (value_cents required)")
    rows: list[tuple[int, dict[str, Any]]] = []
    for record in reader:
        if len(rows) >= max_rows:
            raise Unprocessable.field("file", f"has more than {max_rows} rows")
        rows.append((reader.line_num, _row(record)))
    return rows


def _row(record: dict[str, Any]) -> dict[str, Any]:
    get = {k: (v or "").strip() for k, v in record.items() if isinstance(v, str)}
    row: dict[str, Any] = {}
    if "_extra" in record:
        row["_extra"] = "too many cells"
    if get.get("henkilotunnus"):
        row["holder"] = {"kind": "person", "henkilotunnus": get["henkilotunnus"]}
    elif get.get("business_id"):
        row["holder"] = {"kind": "company", "business_id": get["business_id"]}
    cents = get.get("value_cents", "")
    if cents:  # a CSV cell is text; the API's numbers are strict (kit.text.StrictInt)
        row["value_cents"] = int(cents) if cents.isascii() and cents.isdigit() else cents
    for name in ("valid_until", "choice_deadline", "home_municipality"):
        if get.get(name):
            row[name] = get[name]
    if get.get("languages"):
        row["languages"] = [x for x in get["languages"].replace(";", " ").split() if x]
    remote = get.get("remote_suits", "").lower()
    row["remote_suits"] = True if remote in TRUE else False if remote in FALSE else remote
    profile = {k: get[k] for k in ("unemployment", "education", "earlier_services")
               if get.get(k)}
    if profile:
        row["profile"] = profile
    return row


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not isinstance(p, int) or p >= 0) or "row"


def request_digest(settings: Settings, raw: bytes) -> str:
    """The request as the idempotency key remembers it: a keyed hash (the body holds identity
    codes, and an unkeyed hash of them could be reversed by trying them all)."""
    return hmac.new(settings.person_key_secret.encode(), raw, hashlib.sha256).hexdigest()


async def issue_many(db: Database, settings: Settings, principal: Principal, budget_id: str,
                     rows: list[tuple[int, dict[str, Any]]], key: str | None,
                     digest: str) -> Once[BulkReport]:
    access.admin_region(principal)
    if len(rows) > settings.bulk_max_rows:
        raise Unprocessable.field("rows", f"at most {settings.bulk_max_rows} per request")
    # Every row's rules, keyed hash and encryption before the write transaction begins (on
    # SQLite the writer is not held meanwhile); whether the budget is still open, and the
    # payment scheme, are read again in the transaction.
    early: Problem | None = None
    checked: dict[int, RowResult] = {}
    prepared: list[tuple[int, Voucher]] = []
    try:
        async with db.reader() as r:
            facts = await open_budget_of(r, principal, budget_id)
        checked, prepared = _prepare_rows(rows, facts, settings, principal)
    except Problem as exc:
        early = exc

    async def work(s: AsyncSession) -> BulkReport:
        if early is not None:
            raise early  # under the key: a retry gets the same refusal
        budget = await open_budget_of(s, principal, budget_id)
        await with_scheme(s, budget, [v for _, v in prepared])
        results = dict(checked)
        held = await ledger.owned(s, AccountKind.budget, budget.id, lock=True)
        issued, poor, transfers = allocate(budget, held, [v for _, v in prepared])
        await insert_vouchers(s, issued)
        await fund(s, principal, budget, issued, transfers)
        lines = {v.id: line for line, v in prepared}
        for v in issued:
            results[lines[v.id]] = RowResult(line=lines[v.id], status="issued",
                                             voucher_id=v.id, code=v.code)
        for v in poor:
            results[lines[v.id]] = RowResult(line=lines[v.id], status="refused", errors=[
                FieldError(field="value_cents", message="the budget does not hold enough for "
                           "this row")])
        report = BulkReport(budget_id=budget.id, rows=len(rows), issued=len(issued),
                            refused=len(rows) - len(issued),
                            issued_cents=sum(v.value_cents for v in issued),
                            results=[results[line] for line in sorted(results)])
        return report

    return await once(db, principal, "POST /vouchers/bulk-issuance", key,
                      {"budget_id": budget_id, "body": digest}, work, BulkReport)


def _prepare_rows(rows: list[tuple[int, dict[str, Any]]], budget: Budget, settings: Settings,
                  principal: Principal
                  ) -> tuple[dict[int, RowResult], list[tuple[int, Voucher]]]:
    """Each row checked on its own: (refused rows by line, prepared vouchers with their line)."""
    cipher = CodeCipher(settings.hetu_encryption_key)
    refused: dict[int, RowResult] = {}
    prepared = []
    for line, raw in rows:
        try:
            if "_extra" in raw:
                raise IssuanceRefused("row", "has more cells than the header")
            body = VoucherIn.model_validate({**raw, "budget_id": budget.id})
            prepared.append((line, prepare(body, budget, [], settings, cipher, principal).voucher))
        except ValidationError as exc:
            refused[line] = RowResult(line=line, status="refused", errors=[
                FieldError(field=_field(e["loc"]), message=str(e["msg"]).removeprefix(
                    "Value error, ")) for e in exc.errors(include_input=False)])
        except IssuanceRefused as exc:
            refused[line] = RowResult(line=line, status="refused",
                                      errors=[FieldError(field=exc.field, message=exc.message)])
    return refused, prepared
