"""Catalog tables. The catalog is a cache of what the packages say: `reindex` rebuilds it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every back end; always returned timezone-aware in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are UTC with a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Package(Base):
    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    camera: Mapped[str] = mapped_column(String(64), default="", index=True)
    zone: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    location_name: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_source: Mapped[str] = mapped_column(String(32), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="stored", index=True)
    storage_location: Mapped[str] = mapped_column(String(64), default="primary")
    tagmanifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    signer_fingerprint: Mapped[str] = mapped_column(String(80), default="")
    media_ok: Mapped[bool] = mapped_column(Boolean, default=True)

    clips: Mapped[list[Clip]] = relationship(back_populates="package", cascade="all, delete-orphan",
                                             order_by="Clip.id")


class Clip(Base):
    """One recording file inside a package: the unit of search."""

    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    relpath: Mapped[str] = mapped_column(Text, nullable=False)
    original_name: Mapped[str] = mapped_column(Text, default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sha512: Mapped[str] = mapped_column(String(128))
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    format_name: Mapped[str] = mapped_column(String(100), default="")
    codec: Mapped[str] = mapped_column(String(50), default="")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    probe_ok: Mapped[bool] = mapped_column(Boolean, default=True)

    package: Mapped[Package] = relationship(back_populates="clips")

    __table_args__ = (Index("ix_clips_start_end", "start_utc", "end_utc"),)


# -- custody ledger index (issue 4) --------------------------------------------
class CustodyEntry(Base):
    """Where each custody ledger entry lives in the segment files, so `custody show ID` is a query.

    The segments on storage are the record; this index is a cross-check that
    ``custody verify`` compares entry by entry (an entry the index lacks was not
    written through longwatch's append path).
    """

    __tablename__ = "custody_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    segment: Mapped[str] = mapped_column(String(64), nullable=False)
    byte_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    length: Mapped[int] = mapped_column(Integer, nullable=False)
    leaf_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class CustodyEntryPackage(Base):
    """Which packages a ledger entry concerns (an export or a derivation names several)."""

    __tablename__ = "custody_entry_packages"

    seq: Mapped[int] = mapped_column(ForeignKey("custody_entries.seq", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


# -- retention, legal holds and disposition (issue 6) ---------------------------
class RetentionAssignment(Base):
    """Which record class of which schedule governs a package, and when it falls due.

    The facts that rules match on (case, event type, purpose, event time, case
    closed) live here too, so a schedule change recomputes every due date by
    query. Every change is also a "policy assignment" event in the custody ledger.
    """

    __tablename__ = "retention_assignments"

    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(100), nullable=False)
    record_class: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(16), default="destroy")
    trigger_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    case_id: Mapped[str] = mapped_column(String(200), default="", index=True)
    event_type: Mapped[str] = mapped_column(String(100), default="")
    purpose: Mapped[str] = mapped_column(String(100), default="")
    event_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class LegalHold(Base):
    """A legal hold: one package, a case, a camera over a time range, or a saved search."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    package_id: Mapped[str] = mapped_column(String(36), default="")
    case_id: Mapped[str] = mapped_column(String(200), default="")
    camera: Mapped[str] = mapped_column(String(64), default="")
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    search: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    released_by: Mapped[str] = mapped_column(String(200), default="")
    release_reason: Mapped[str] = mapped_column(Text, default="")


class Disposition(Base):
    """A proposed, approved and executed destruction of packages (two people, one certificate)."""

    __tablename__ = "dispositions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    schedule_id: Mapped[str] = mapped_column(String(100), nullable=False)
    proposer: Mapped[str] = mapped_column(String(200), nullable=False)
    proposer_role: Mapped[str] = mapped_column(String(64), default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    approver: Mapped[str] = mapped_column(String(200), default="")
    approver_role: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certificate: Mapped[str] = mapped_column(Text, default="")


class DispositionItem(Base):
    """One package of a disposition; its status is the intent journal that makes execution resumable."""

    __tablename__ = "disposition_items"

    disposition_id: Mapped[str] = mapped_column(ForeignKey("dispositions.id", ondelete="CASCADE"),
                                                primary_key=True)
    package_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    record_class: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
