from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from kit.orm import new_metadata
from kit.registry_replica import AccreditationColumns, ProviderColumns
from kit.tables import plumbing_tables

metadata = new_metadata()


class Base(DeclarativeBase):
    metadata = metadata


plumbing = plumbing_tables(metadata)


class ProviderView(ProviderColumns, Base):
    """Replica of the registry's providers (kit.registry_replica): names in explanations."""

    __tablename__ = "provider_view"


class AccreditationView(AccreditationColumns, Base):
    """Replica of each provider's accreditation per region: only choosable providers rank."""

    __tablename__ = "accreditation_view"
