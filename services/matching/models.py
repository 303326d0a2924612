from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.orm import UTCDateTime, new_metadata
from kit.tables import plumbing_tables

metadata = new_metadata()


class Base(DeclarativeBase):
    metadata = metadata


tables = plumbing_tables(metadata)


class ProviderView(Base):
    """Read model of registry providers, built from registry events."""

    __tablename__ = "provider_view"

    provider_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    business_id: Mapped[str] = mapped_column(String(9))
    legal_name: Mapped[str] = mapped_column(String(200))
    regions: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
