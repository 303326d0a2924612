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
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kit.audit import audit_table
from kit.orm import UTCDateTime, new_metadata
from kit.tables import plumbing_tables

metadata = new_metadata()
# made by the search migration in raw SQL, without a model (see OfferingSearch)
metadata.info["made_by_migrations"] = (
    "offering_fts", "ix_offering_search_text_trgm", "ix_offering_search_title_trgm")


class Base(DeclarativeBase):
    metadata = metadata


plumbing = plumbing_tables(metadata)
audit_log = audit_table(metadata)


class Region(Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    municipalities: Mapped[list[Municipality]] = relationship(
        viewonly=True, lazy="selectin", order_by="Municipality.code")


class Municipality(Base):
    __tablename__ = "municipality"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)


class ServiceType(Base):
    __tablename__ = "service_type"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    payment_scheme: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Provider(Base):
    __tablename__ = "provider"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    business_id: Mapped[str] = mapped_column(String(9), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)


class Accreditation(Base):
    """One provider in one region."""

    __tablename__ = "accreditation"
    __table_args__ = (Index("ix_accreditation_region_state", "region_code", "state"),)

    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Offering(Base):
    __tablename__ = "offering"
    __table_args__ = (
        CheckConstraint("unit_price_cents > 0", name="price_positive"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        # Public search walks these in (next_start, id) order and stops after one page.
        Index("ix_offering_visible_start", "visible", "next_start", "id"),
        Index("ix_offering_visible_region_start", "visible", "region_code", "next_start", "id"),
        # Counting matches of the common filters from the index alone.
        Index("ix_offering_facets", "visible", "region_code", "service_type", "remote"),
        # One provider's offerings: public ones in search order, all of them for its staff,
        # and those in one region when an accreditation changes.
        Index("ix_offering_provider_start", "provider_id", "visible", "next_start", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    service_type: Mapped[str] = mapped_column(ForeignKey("service_type.code"))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    municipalities: Mapped[list[str]] = mapped_column(JSON)
    remote: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    next_start: Mapped[date] = mapped_column(Date)
    duration_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    # Derived, kept in the same transaction as every change of the offering or of the
    # provider's accreditation in the region: published and the provider approved there.
    visible: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_name: Mapped[str] = mapped_column(String(200))
    # The premises (none for an offering given only remotely, or not told) and their
    # accessibility (codes of domain/premises.py, and a short text).
    street_address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    post_office: Mapped[str | None] = mapped_column(String(100))
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility_note: Mapped[str | None] = mapped_column(String(500))
    # Whether the provider takes new customers now, whatever its open places say.
    accepting_new_customers: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When each part last changed (domain/premises.py PARTS), set by the use cases.
    details_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    places_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    premises_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)


class OfferingMunicipality(Base):
    """Where an offering is delivered, one row per municipality (for indexed search)."""

    __tablename__ = "offering_municipality"
    __table_args__ = (Index("ix_offering_municipality_code", "municipality_code", "offering_id"),)

    offering_id: Mapped[str] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipality.code"), primary_key=True
    )


class OfferingLanguage(Base):
    __tablename__ = "offering_language"
    __table_args__ = (Index("ix_offering_language_lang", "language", "offering_id"),)

    offering_id: Mapped[str] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(2), primary_key=True)


class SearchEntry(Base):
    """The search table: one narrow row per offering, kept by the repository in the
    transaction of every change of the offering, its visibility or its provider's name.

    ``key`` is the order of the search (next start date, then ``seq``; see
    ``domain/search.py``); the filters walk the indexes below in that order and stop after one
    page. The free text is indexed by an FTS5 trigram table (SQLite, ``offering_fts``, kept by
    triggers) or by pg_trgm GIN indexes (PostgreSQL); both are made by the migration.
    """

    __tablename__ = "offering_search"
    __table_args__ = (
        Index("ix_offering_search_visible", "visible", "key"),
        Index("ix_offering_search_region", "visible", "region_code", "key"),
        Index("ix_offering_search_region_type", "visible", "region_code", "service_type", "key"),
        Index("ix_offering_search_type", "visible", "service_type", "key"),
        Index("ix_offering_search_remote", "visible", "remote", "key"),
        # The provider's offerings in order, visible or not (their staff see them all); the
        # public's filter on ``visible`` is answered from the index.
        Index("ix_offering_search_provider", "provider_id", "key", "visible"),
    )

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    offering_id: Mapped[str] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), unique=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    region_code: Mapped[str] = mapped_column(String(40))
    service_type: Mapped[str] = mapped_column(String(60))
    remote: Mapped[bool] = mapped_column(Boolean)
    visible: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class SearchPlace(Base):
    """Where a search row's offering is delivered, in the search's order: a municipality's
    offerings are walked by ``(municipality_code, key)`` and counted from here."""

    __tablename__ = "offering_search_place"

    municipality_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    key: Mapped[int] = mapped_column(
        ForeignKey("offering_search.key", ondelete="CASCADE"), primary_key=True)


class SearchLanguage(Base):
    """A search row's languages, each as a *facet* alone (``sv``) and with the offering's
    region (``sv pirkanmaa``), with the row's visibility and service type: a language's
    offerings, in a region and of a service type or not, are one range of an index in the
    search's order, so that a page and the bounded count read only what they return."""

    __tablename__ = "offering_search_language"
    __table_args__ = (
        Index("ix_offering_search_language", "facet", "visible", "key"),
        Index("ix_offering_search_language_type", "facet", "visible", "service_type", "key"),
    )

    facet: Mapped[str] = mapped_column(String(44), primary_key=True)
    key: Mapped[int] = mapped_column(
        ForeignKey("offering_search.key", ondelete="CASCADE"), primary_key=True)
    visible: Mapped[bool] = mapped_column(Boolean)
    service_type: Mapped[str] = mapped_column(String(60))


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
