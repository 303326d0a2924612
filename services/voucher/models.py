from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.audit import audit_table
from kit.orm import UTCDateTime, new_metadata
from kit.registry_replica import AccreditationColumns, ProviderColumns
from kit.tables import plumbing_tables

metadata = new_metadata()


class Base(DeclarativeBase):
    metadata = metadata


plumbing = plumbing_tables(metadata)
audit_log = audit_table(metadata, chained=True)


class ProviderView(ProviderColumns, Base):
    """Replica of the registry's providers (kit.registry_replica)."""

    __tablename__ = "provider_view"


class AccreditationView(AccreditationColumns, Base):
    """Replica of each provider's accreditation per region: choices are checked against it."""

    __tablename__ = "accreditation_view"


class OfferingView(Base):
    """Read model: an offering as the registry last published it. Choices and capacity are
    checked against this, never by calling the registry at request time."""

    __tablename__ = "offering_view"
    __table_args__ = (Index("ix_offering_view_provider_region", "provider_id", "region"),)

    offering_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    municipalities: Mapped[list[str]] = mapped_column(JSON)
    remote: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    next_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    # False: the provider takes no new customers for it now (None: not told, taken as yes)
    accepting_new_customers: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


# ------------------------------------------------------------------ the ledger

Cents = BigInteger


class LedgerAccount(Base):
    """Totals of one account. Changed only together with the transfers that explain them (see
    services/voucher/ledger.py); a limited account's debits never exceed its posted credits."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
                        "AND credits_posted >= 0", name="non_negative"),
        CheckConstraint("NOT debits_must_not_exceed_credits OR "
                        "debits_pending + debits_posted <= credits_posted", name="not_overdrawn"),
        Index("ix_ledger_account_owner", "kind", "owner"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(40))
    funder: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(120))
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(Boolean)
    debits_pending: Mapped[int] = mapped_column(Cents, default=0)
    debits_posted: Mapped[int] = mapped_column(Cents, default=0)
    credits_pending: Mapped[int] = mapped_column(Cents, default=0)
    credits_posted: Mapped[int] = mapped_column(Cents, default=0)


class LedgerTransfer(Base):
    """An immutable movement of money (UPDATE and DELETE refused by triggers). A pending
    transfer is resolved by at most one post or void transfer naming it in ``pending_id``."""

    __tablename__ = "ledger_transfer"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive"),
        CheckConstraint("(phase IN ('post', 'void')) = (pending_id IS NOT NULL)",
                        name="resolution_names_pending"),
        Index("ix_ledger_transfer_budget", "budget_id", "created_at"),
        Index("ix_ledger_transfer_voucher", "voucher_id"),
        Index("ix_ledger_transfer_reference", "reference"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[int] = mapped_column(Cents)
    kind: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str] = mapped_column(String(10))
    pending_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfer.id"), unique=True)
    region: Mapped[str] = mapped_column(String(40))
    funder: Mapped[str] = mapped_column(String(40))
    budget_id: Mapped[str] = mapped_column(String(36))
    voucher_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    reference: Mapped[str] = mapped_column(String(80))  # e.g. "claim:<id>", "batch:<id>"
    group_id: Mapped[str] = mapped_column(String(36))  # transfers written together (linked)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BudgetUsage(Base):
    """Running total of the transfers of one budget, funder, kind and phase: what a budget's
    usage is read from in one lookup, however many vouchers it has. Added to only by the
    ledger (services/voucher/ledger.py), in the transaction that writes the transfers, by one
    ``INSERT … ON CONFLICT DO UPDATE SET total_cents = total_cents + excluded.total_cents``;
    ``ledger.usage_mismatches`` recomputes it from the transfers."""

    __tablename__ = "budget_usage"

    budget_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    funder: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    total_cents: Mapped[int] = mapped_column(Cents)


# ------------------------------------------------------------------ budgets and vouchers


class ServiceTypeView(Base):
    """Read model of the registry's service-type catalogue (payment schemes come from here)."""

    __tablename__ = "service_type_view"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    payment_scheme: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class Budget(Base):
    """A region's money for one service type and period. Its balance per funder lives in the
    ledger (BUDGET accounts), never here."""

    __tablename__ = "budget"
    __table_args__ = (
        Index("uq_budget_region_service_type_period", "region", "service_type", "period_start",
              unique=True),
        CheckConstraint("period_start <= period_end", name="period"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # open | closed
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Voucher(Base):
    """One holder's right to one service. Its money is in the ledger (VOUCHER accounts)."""

    __tablename__ = "voucher"
    __table_args__ = (
        Index("ix_voucher_region_state", "region", "state", "id"),
        Index("ix_voucher_person", "person_key", "id"),
        Index("ix_voucher_provider", "provider_id", "state", "id"),
        Index("ix_voucher_expiry", "state", "valid_until"),
        Index("ix_voucher_outcome_due", "outcome_deadline",
              sqlite_where=text("outcome IS NULL AND outcome_deadline IS NOT NULL"),
              postgresql_where=text("outcome IS NULL AND outcome_deadline IS NOT NULL")),
        CheckConstraint("value_cents > 0", name="value_positive"),
        CheckConstraint("(holder_kind = 'person') = (person_key IS NOT NULL)",
                        name="person_keyed"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    budget_id: Mapped[str] = mapped_column(ForeignKey("budget.id"))
    region: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    holder_kind: Mapped[str] = mapped_column(String(10))
    person_key: Mapped[str | None] = mapped_column(String(64))
    hetu_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    business_id: Mapped[str | None] = mapped_column(String(9))
    home_municipality: Mapped[str | None] = mapped_column(String(3))
    languages: Mapped[list[str]] = mapped_column(JSON)
    remote_suits: Mapped[bool] = mapped_column(Boolean)
    profile: Mapped[dict[str, str]] = mapped_column(JSON)
    value_cents: Mapped[int] = mapped_column(Cents)
    payment_scheme: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    valid_until: Mapped[date] = mapped_column(Date)
    choice_deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    offering_id: Mapped[str | None] = mapped_column(String(36))
    chosen_by: Mapped[str | None] = mapped_column(String(20))
    co_payment_cents: Mapped[int] = mapped_column(Cents, default=0)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_deadline: Mapped[date | None] = mapped_column(Date)
    flag: Mapped[str | None] = mapped_column(String(40))  # needs a region admin's attention
    version: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(200))


class VoucherChoice(Base):
    """The history of a voucher's providers: one row per choice, closed when it ends."""

    __tablename__ = "voucher_choice"
    __table_args__ = (Index("ix_voucher_choice_voucher", "voucher_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                     primary_key=True, autoincrement=True)
    voucher_id: Mapped[str] = mapped_column(ForeignKey("voucher.id"))
    offering_id: Mapped[str] = mapped_column(String(36))
    provider_id: Mapped[str] = mapped_column(String(36))
    chosen_by: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(40))


class OfferingPlace(Base):
    """Places of an offering taken by vouchers here (chosen or started), against the capacity
    the registry publishes. Taken only by ``UPDATE … WHERE taken < capacity``."""

    __tablename__ = "offering_place"
    __table_args__ = (CheckConstraint("taken >= 0", name="taken_non_negative"),)

    offering_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer)


class VoucherMilestone(Base):
    """A milestone of the payment scheme the provider reported reached, with its evidence."""

    __tablename__ = "voucher_milestone"

    voucher_id: Mapped[str] = mapped_column(ForeignKey("voucher.id"), primary_key=True)
    milestone: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    reached_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Claim(Base):
    """A provider's request to be paid one milestone of one voucher. At most one claim per
    milestone is alive (not rejected): a unique index, so two can never both be posted."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("uq_claim_live_milestone", "voucher_id", "milestone", unique=True,
              sqlite_where=text("status <> 'rejected'"),
              postgresql_where=text("status <> 'rejected'")),
        Index("ix_claim_region_status", "region", "status", "id"),
        Index("ix_claim_provider", "provider_id", "id"),
        Index("ix_claim_batch", "payment_batch_id"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    voucher_id: Mapped[str] = mapped_column(ForeignKey("voucher.id"))
    provider_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str] = mapped_column(String(40))
    budget_id: Mapped[str] = mapped_column(String(36))
    service_type: Mapped[str] = mapped_column(String(60))
    milestone: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(Cents)
    status: Mapped[str] = mapped_column(String(12))  # submitted | approved | rejected | paid
    evidence: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    payment_batch_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)


class PaymentBatch(Base):
    """Approved claims of a region handed to its payment system together. The money is a
    pending PAYABLE → CLEARING transfer per account until the region confirms or it fails."""

    __tablename__ = "payment_batch"
    __table_args__ = (Index("ix_payment_batch_region", "region", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))  # exported | paid | failed
    claims: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Cents)
    claim_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer)


class Rating(Base):
    """The holder's rating of the provider of a completed voucher: one per voucher."""

    __tablename__ = "rating"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),)

    voucher_id: Mapped[str] = mapped_column(ForeignKey("voucher.id"), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36), index=True)
    offering_id: Mapped[str] = mapped_column(String(36))
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
