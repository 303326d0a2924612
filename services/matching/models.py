"""The matching service's tables: read models kept only from the registry's and the voucher
service's events (rebuildable by replaying both streams, see ``services.matching.rebuild``),
and what the service itself decides: assignment runs, their proposals, admins' overrides and
published outcome statistics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.audit import audit_table
from kit.orm import UTCDateTime, new_metadata
from kit.registry_replica import AccreditationColumns, ProviderColumns
from kit.tables import plumbing_tables

metadata = new_metadata()


class Base(DeclarativeBase):
    metadata = metadata


plumbing = plumbing_tables(metadata)
# Append-only: admins' overrides of default assignment (action ``assignment.overridden``).
audit_log = audit_table(metadata)


class ProviderView(ProviderColumns, Base):
    """Replica of the registry's providers (kit.registry_replica): names in explanations."""

    __tablename__ = "provider_view"


class AccreditationView(AccreditationColumns, Base):
    """Replica of each provider's accreditation per region: only choosable providers rank."""

    __tablename__ = "accreditation_view"


class OfferingView(Base):
    """An offering as the registry last published it; ``taken``: places held by vouchers
    (chosen or started), counted from the voucher service's events."""

    __tablename__ = "offering_view"
    __table_args__ = (Index("ix_offering_view_region_type", "region", "service_type"),)

    offering_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    municipalities: Mapped[list[str]] = mapped_column(JSON)
    remote: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    next_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    # False: the provider takes no new customers for it now (None: not told, taken as yes)
    accepting_new_customers: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class VoucherView(Base):
    """A voucher's public picture as its newest event left it (``contracts.voucher``). The
    profile bands serve the outcome statistics only, never the ranking."""

    __tablename__ = "voucher_view"
    __table_args__ = (
        Index("ix_voucher_view_pending", "region", "state", "choice_deadline"),
        Index("ix_voucher_view_provider", "provider_id"),
    )

    voucher_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    holder_kind: Mapped[str] = mapped_column(String(10))
    holder_ref: Mapped[str | None] = mapped_column(String(64))
    home_municipality: Mapped[str | None] = mapped_column(String(10))
    languages: Mapped[list[str]] = mapped_column(JSON)
    remote_suits: Mapped[bool] = mapped_column(Boolean)
    profile: Mapped[dict[str, str]] = mapped_column(JSON)
    value_cents: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)
    choice_deadline: Mapped[date] = mapped_column(Date)
    provider_id: Mapped[str | None] = mapped_column(String(36))
    offering_id: Mapped[str | None] = mapped_column(String(36))
    chosen_by: Mapped[str | None] = mapped_column(String(30))
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))


class RatingView(Base):
    """A holder's rating of the provider of a completed voucher (one per voucher)."""

    __tablename__ = "rating_view"
    __table_args__ = (Index("ix_rating_view_region_type", "region", "service_type"),)

    voucher_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    offering_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    stars: Mapped[int] = mapped_column(Integer)


class RegionGeneration(Base):
    """Grows in every transaction that changes a region's read models (consumers): replicas
    compare it with the one their in-memory index of the region was built at."""

    __tablename__ = "region_generation"

    region: Mapped[str] = mapped_column(String(40), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


# ------------------------------------------------------------------ what matching decides


class AssignmentRun(Base):
    """One default-assignment run of a region: its inputs, seed and score version, so that it
    can be reproduced, and its summary."""

    __tablename__ = "assignment_run"
    __table_args__ = (Index("ix_assignment_run_region", "region", "created_at"),)

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(Integer)
    score_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # finished | failed
    actor: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class AssignmentProposal(Base):
    """What a run proposed for one voucher (``offering_id`` None: unassigned, ``reason``)."""

    __tablename__ = "assignment_proposal"
    __table_args__ = (Index("ix_assignment_proposal_voucher", "voucher_id"),)

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    voucher_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    offering_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(60))


class AssignmentOverride(Base):
    """A region admin's assignment of one voucher, with a reason: no later run changes it."""

    __tablename__ = "assignment_override"

    voucher_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    offering_id: Mapped[str] = mapped_column(String(36))
    provider_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatisticsPublication(Base):
    """One publication of outcome statistics: the window, the frozen comparison groups, the
    figures and the creaming signals, as computed then (``body``)."""

    __tablename__ = "statistics_publication"
    __table_args__ = (Index("ix_statistics_publication_at", "created_at"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    publication_id: Mapped[str] = mapped_column(String(80))
    method_version: Mapped[str] = mapped_column(String(40))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
