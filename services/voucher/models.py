from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.orm import new_metadata
from kit.registry_replica import AccreditationColumns, ProviderColumns
from kit.tables import plumbing_tables

metadata = new_metadata()


class Base(DeclarativeBase):
    metadata = metadata


plumbing = plumbing_tables(metadata)


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
