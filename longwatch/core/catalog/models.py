"""Catalog tables. The catalog is a cache of what the packages say: `reindex` rebuilds it.

Every table of the catalog is declared here, on one :class:`Base` and its
naming convention, grouped by the feature that added it (packages and clips,
the custody ledger's index, web accounts, storage, cameras and events, cases,
retention, public requests, analytics rollups).

Why one long module: one declarative module holding all the tables is the
usual SQLAlchemy and Alembic shape. The tables refer to each other by foreign
keys and relationships, ``Base.metadata`` must know every one of them before a
migration is compared or ``reindex`` runs (the migrations' ``env.py`` imports
this module alone), and the columns here are checked against the Alembic
revisions line by line; split by feature, each part would have to be imported
for its side effect of registering its tables, and the schema would no longer
be readable in one place. The code that uses the tables lives with its feature.
"""

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
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from longwatch.core.catalog import terms

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
    #: Dublin Core description and operator notes: searched as full text with title and place.
    description: Mapped[str | None] = mapped_column(Text, default="")
    notes: Mapped[str | None] = mapped_column(Text, default="")
    #: The full-text terms of the SEARCHED fields (``terms.document``), set on every ORM write;
    #: both back ends index this column (``fulltext``). A cache of the fields, like the catalog.
    search_terms: Mapped[str | None] = mapped_column(Text, default="")
    #: Where the footage came from (issue 22): ``camera`` (ingest, watch, connectors) or ``upload`` (a person's
    #: file through the web or the API). An upload's camera is only ``claimed_camera`` until a records manager
    #: confirms it (``confirmed_by``, ``confirmed_at``); until then ``camera`` is empty, so no camera search
    #: or range export takes it for that camera's recording. Read back from bag-info.txt and the ledger.
    origin: Mapped[str] = mapped_column(String(16), default="camera", server_default="camera")
    uploaded_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    claimed_camera: Mapped[str] = mapped_column(String(64), default="", server_default="")
    confirmed_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clips: Mapped[list[Clip]] = relationship(back_populates="package", cascade="all, delete-orphan",
                                             order_by="Clip.id")


#: The package fields searched as text (Dublin Core title, description, coverage, source; notes).
SEARCHED = ("title", "description", "notes", "location_name", "camera", "zone")


@event.listens_for(Package, "before_insert")
def _set_search_terms(_mapper: Any, _connection: Any, target: Package) -> None:
    """Keep the indexed terms in step with the text whoever writes a package through the ORM."""
    target.search_terms = terms.document(*(getattr(target, f) for f in SEARCHED))


@event.listens_for(Package, "before_update")
def _update_search_terms(_mapper: Any, _connection: Any, target: Package) -> None:
    """Only when a searched field changed: a status change must not rewrite the full-text rows."""
    state = inspect(target)
    if any(state.attrs[f].history.has_changes() for f in SEARCHED):
        _set_search_terms(_mapper, _connection, target)


class Clip(Base):
    """One recording file inside a package: the unit of search."""

    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
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
    # Copies of the package's (or camera registry's) fields, so that every search filter is
    # answered from one table with composite indexes: the catalog is a cache, rebuilt by reindex.
    camera: Mapped[str | None] = mapped_column(String(64), default="")
    zone: Mapped[str | None] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    #: Whole seconds from start to end; its index gives the longest clip in O(1), which bounds
    #: the time-overlap scan (start >= from - longest) so the start index does the work.
    span_s: Mapped[int | None] = mapped_column(Integer)

    package: Mapped[Package] = relationship(back_populates="clips")

    __table_args__ = (
        Index("ix_clips_start_end", "start_utc", "end_utc"),
        # Covers "these packages' clips, by time" without touching the table (event and case searches), with
        # what the facets count (revision 0038).
        Index("ix_clips_package_cover", "package_id", "start_utc", "id", "camera", "zone"),
        Index("ix_clips_camera_start", "camera", "start_utc"),
        # Covering (revision 0038): the newest matches of a zone with what the facets count, from the index alone.
        Index("ix_clips_zone_cover", "zone", "start_utc", "id", "camera", "package_id"),
        Index("ix_clips_lat_lon", "latitude", "longitude"),
        Index("ix_clips_span_s", "span_s"),
    )


# -- custody ledger index (issue 4) --------------------------------------------
class CustodyEntry(Base):
    """One custody ledger entry: its canonical bytes and what queries need of them (migration 0027).

    The database sequences the ledger: an entry, its seq and its leaf hash are
    one row written in the appending transaction (core/custody/ledger.py);
    closed segments of these lines and the checkpoints are mirrored to storage
    (core/custody/mirror.py), from where ``reindex`` restores them. ``segment``,
    ``byte_offset`` and ``length`` are where an entry written before 0027 sat in
    its folder segment (empty for newer entries).
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
    line: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class CustodyCheckpoint(Base):
    """A signed checkpoint of the ledger (migration 0027): the note, its CMS signature, its RFC 3161 token,
    and the Merkle frontier at that size, from which the next checkpoint's root is computed."""

    __tablename__ = "custody_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    note: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    tsr: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    frontier: Mapped[str | None] = mapped_column(Text, nullable=True)


class CustodyCosignature(Base):
    """A witness's cosignature of one of our checkpoints (C2SP cosignature/v1), kept and mirrored."""

    __tablename__ = "custody_cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text, nullable=False)


class CustodyMirror(Base):
    """How far the ledger's mirror on one storage location reaches (migration 0027; core/custody/mirror.py).

    ``failing_since`` is when writing to it first failed since its last
    success: past ``[custody] mirror_grace_minutes`` the primary location's
    mirror being unreachable stops appends (L032) rather than let entries pile
    up that only the database holds.
    """

    __tablename__ = "custody_mirrors"

    location: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, nullable=False, default="")


class CustodyEntryPackage(Base):
    """Which packages a ledger entry concerns (an export or a derivation names several)."""

    __tablename__ = "custody_entry_packages"

    seq: Mapped[int] = mapped_column(ForeignKey("custody_entries.seq", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
class CustodyLedgerIdentity(Base):
    """The custody ledger's identity (migration 0022): one row, the id and entry 0's leaf hash that the
    mirror's ``identity.json`` on each storage location repeats. An append refuses (L024) when the two
    differ, so a mirror that is another archive's is never written over (docs/custody.md, "Identity").
    ``directory`` names the folder of a ledger written before migration 0027 until its entries are
    imported (then it is empty); ``group_start`` is the first seq of the last group appended."""

    __tablename__ = "custody_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ledger_id: Mapped[str] = mapped_column(String(36), nullable=False)
    first_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    directory: Mapped[str] = mapped_column(Text, nullable=False)  # a pre-0027 folder not yet imported, or ""
    group_start: Mapped[int] = mapped_column(BigInteger, nullable=False)  # first seq of the last group written


class CatalogJournal(Base):
    """Changes to decision tables waiting for the custody ledger (migration 0023; core/catalog/journal.py).

    Written in the same transaction as the change itself, so a committed
    change always has its row here until the ledger holds it; then the row is
    deleted (core/custody/decisions.py, under one catalog-wide lock so the
    ledger takes them in the order they were committed).
    """

    __tablename__ = "catalog_journal"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False)
    op: Mapped[str] = mapped_column(String(8), nullable=False)  # upsert | delete
    key: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: the primary key's columns
    row: Mapped[str | None] = mapped_column(Text)  # JSON: the row after the change (upsert)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


# -- web accounts (migration 0004) ---------------------------------------------
class User(Base):
    """A local account; the password is kept only as an argon2 hash (core/accounts.py)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(8), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class WebSession(Base):
    """A browser session; only the SHA-256 of its secret id is stored, so a stolen catalog opens none."""

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    address: Mapped[str] = mapped_column(String(64), default="")


class ApiToken(Base):
    """A bearer token for machines; stored as its SHA-256 only (shown once when created)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: space-separated scopes (core.accounts.SCOPES; migration 0028): what the token may do within its role
    scopes: Mapped[str] = mapped_column(String(200), default="all", server_default="all", nullable=False)


class OsUserAccount(Base):
    """An administrator's mapping of an operating-system user to an account (migration 0023).

    For unattended services (a worker, a connector, cron) that cannot sign in:
    commands they run act as the mapped account. Each mapping is also a custody
    ledger event, so who may act as whom is on the record.
    """

    __tablename__ = "os_user_accounts"

    os_user: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mapped_by: Mapped[str] = mapped_column(String(64), default="")
    mapped_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class AccountChange(Base):
    """Who changed which account, when, and how (migration 0030): the accounts page's audit trail.

    The ``users`` row itself says only how an account is now, and the ledger
    entry the catalog journal makes of it names the process, not the person
    who clicked; so each change also writes one row here, naming the acting
    account. The table is journaled, so the trail reaches the custody ledger too.
    """

    __tablename__ = "account_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(64), default="")
    username: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    #: created, role, active, password, token created, token revoked
    change: Mapped[str] = mapped_column(String(32), nullable=False)
    old: Mapped[str] = mapped_column(String(200), default="")
    new: Mapped[str] = mapped_column(String(200), default="")


class LoginAttempt(Base):
    """Failed logins per user and address, in the catalog so every server process sees them."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Upload(Base):
    """A tus upload in progress; ``offset`` is the last byte known good (resumes after a restart)."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    length: Mapped[int] = mapped_column(BigInteger, nullable=False)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(Text, default="")
    metadata_json: Mapped[str] = mapped_column(Text, default="{}")
    expected_sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="receiving", index=True)
    package_id: Mapped[str] = mapped_column(String(36), default="", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class UploadPart(Base):
    """One received chunk of a tus upload, stored as an object on the primary location (migration 0034).

    Why rows and not a listing of the objects: two PATCHes for the same
    offset may reach two web servers at once. Each stores its chunk under a
    key of its own, and only the one whose update moves ``uploads.offset`` on
    from the offset it started at records its part here, in the same
    transaction; the loser deletes its object. The parts named here are then
    exactly the upload's bytes, in order, whatever else a crash left under
    the upload's prefix.
    """

    __tablename__ = "upload_parts"
    __table_args__ = (UniqueConstraint("upload_id", "start", name="uq_upload_parts_upload_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), nullable=False)
    start: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end: Mapped[int] = mapped_column(BigInteger, nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)


class Copy(Base):
    """One copy of a package on one storage location, with the outcome of its last fixity check.

    The catalog answers "where are the copies and when were they last checked"
    without walking storage; audits walk copies oldest-checked first.
    """

    __tablename__ = "copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(64), nullable=False)
    #: ok, quarantined (failed a check, awaiting repair), lost (no good copy to repair from)
    status: Mapped[str] = mapped_column(String(16), default="ok", index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_outcome: Mapped[str] = mapped_column(String(16), default="")
    last_access_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("package_id", "location", name="uq_copies_package_location"),
        # usage per location (a count and a sum) is answered from this index alone (migration 0019)
        Index("ix_copies_location_size", "location", "size_bytes"),
    )


class StorageEvent(Base):
    """What happened to a copy: replication, fixity check, quarantine, repair, tier move, loss.

    Kept when a package is disposed of (no foreign key), as evidence of care.
    """

    __tablename__ = "storage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    package_id: Mapped[str] = mapped_column(String(36), index=True)
    location: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    source_location: Mapped[str] = mapped_column(String(64), default="")
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")


class Zone(Base):
    """A node of the zone hierarchy (district > area > site), keyed by its path "Jung-gu/Market/Gate-1"."""

    __tablename__ = "zones"

    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    parent: Mapped[str | None] = mapped_column(ForeignKey("zones.path", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="")


class Purpose(Base):
    """Why a camera is there (traffic, crime prevention, disaster watch...): editable data."""

    __tablename__ = "purposes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")


class Camera(Base):
    """The camera registry; where a camera stood when is in :class:`CameraPosition`."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    vendor: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    zone: Mapped[str] = mapped_column(String(200), default="", index=True)
    purpose: Mapped[str] = mapped_column(String(64), default="", index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(Text, default="")
    #: ",tag1,tag2," so that one LIKE '%,tag,%' matches a whole tag on every back end.
    tags: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    clock_offset_s: Mapped[float] = mapped_column(Float, default=0.0)

    positions: Mapped[list[CameraPosition]] = relationship(
        back_populates="camera", cascade="all, delete-orphan", order_by="CameraPosition.valid_from")


class CameraPosition(Base):
    """A validity period of a camera's place: moves and replacements close one and open the next."""

    __tablename__ = "camera_positions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    zone: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")

    camera: Mapped[Camera] = relationship(back_populates="positions")


class DetectedEvent(Base):
    """Something a detector or a vendor's AI said about a package: type, time span and confidence.

    A row of the ``events`` table; not to be confused with the custody ledger's
    entries (:class:`longwatch.core.custody.entries.CustodyEvent`).
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str | None] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    camera: Mapped[str] = mapped_column(String(64), default="")
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    source: Mapped[str] = mapped_column(String(100), default="")
    # events branch (revision 0010): vendor identity, detector, review and the window it caused
    vendor_event_id: Mapped[str | None] = mapped_column(String(200))
    detector: Mapped[str] = mapped_column(Text, default="")  # JSON: Detector.identity() or {}
    boxes: Mapped[str] = mapped_column(Text, default="")  # JSON: [[x, y, w, h], ...] or per-frame list
    zone: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    reviewer: Mapped[str] = mapped_column(String(200), default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_package_id: Mapped[str | None] = mapped_column(String(36))

    # Covering (revision 0014): "type + minimum confidence" reads its packages from the index alone.
    # Covering (revision 0038): "these packages' event types" (the facets) from the index alone.
    __table_args__ = (Index("ix_events_package_type", "package_id", "type"),
                      Index("ix_events_type_confidence_package", "type", "confidence", "package_id"),
                      Index("ix_events_start_utc", "start_utc"),  # time ranges: analytics' edge minutes
                      Index("uq_events_source_vendor", "source", "vendor_event_id", unique=True))


class EventWindow(Base):
    """A window package made by a rule: its range, the version it supersedes, its retention class."""

    __tablename__ = "event_windows"

    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_package_id: Mapped[str] = mapped_column(String(36), index=True)
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    supersedes: Mapped[str | None] = mapped_column(String(36))
    superseded_by: Mapped[str | None] = mapped_column(String(36))
    retention_class: Mapped[str] = mapped_column(String(64), default="")


class Case(Base):
    """A request (police, complaint, disclosure) and the footage gathered for it."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(Text, default="")
    requester: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CasePackage(Base):
    __tablename__ = "case_packages"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class CaseMember(Base):
    """A named account a case is shared with: an investigator sees the cases shared with them, and their footage.

    Kept by user name (not id), so the reference snapshot restores it after ``reindex`` as it restores the case.
    """

    __tablename__ = "case_members"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    granted_by: Mapped[str] = mapped_column(String(64), default="")
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseRange(Base):
    """A time range asked for in a case (optionally one camera); its packages are attached too."""

    __tablename__ = "case_ranges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    camera: Mapped[str] = mapped_column(String(64), default="")
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


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


class RetentionScheduleVersion(Base):
    """Each retention schedule made active, when and by whom (migration 0031): the schedule page's history.

    A projection of the ledger's ``retention set`` entries, which also keep each
    version's text; ``reindex`` rebuilds it from them
    (:func:`longwatch.core.records.assignment.replay`).
    """

    __tablename__ = "retention_schedule_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(String(100), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(300), default="")
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    activated_by: Mapped[str] = mapped_column(String(200), default="")


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


class SavedSearch(Base):
    """A search's filters kept under a name by one account (migration 0035), to run again later.

    The filters are the search form's, as typed (``start`` and ``end`` on the archive's wall clock), so a
    saved search reads back into the form exactly. A preference of the account, not a decision about
    footage: a legal hold made from one copies its criteria into the hold and the custody ledger.
    """

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_searches_owner_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    criteria: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


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
class PlanningSampleKept(Base):
    """Footage kept as a planning sample when its source was disposed of (migration 0021).

    ``kind`` is ``cut`` (a derived package holding the sampled minutes, cut by
    stream copy) or ``kept`` (the source itself, wholly inside the sample, re-classed).
    The range is the requested one (the sampled minutes the source covered); a cut
    starts on the keyframe at or before it. The packages' PREMIS and the custody
    ledger are the record; this row is the index that keeps disposition idempotent
    and fills the destruction certificate.
    """

    __tablename__ = "planning_samples"
    __table_args__ = (Index("ix_planning_samples_camera_start", "camera", "start_utc"),)

    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_package_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    camera: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)  # a kept package: one per hour
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    disposition_id: Mapped[str] = mapped_column(String(36), nullable=False, default="", index=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ExportShare(Base):
    """A download link for one evidence export (docs/export.md): expiring, revocable, every use counted.

    Only the token's SHA-256 is kept, so the catalog cannot hand out the link again.
    """

    __tablename__ = "export_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    export_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    # the export's key in the object store (exports/<export id>); links of earlier releases hold an absolute
    # local folder, still read for one release (core/evidence/shares.py)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    recipient: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
class JobFailure(Base):
    """The last failure of a queued job, with its error code (procrastinate keeps no error text).

    Written by the worker in the failing attempt; ``longwatch jobs`` joins it to
    procrastinate's own job table. Deleted when the job is retried by hand.
    """

    __tablename__ = "job_failures"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str] = mapped_column(String(8), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
# -- public-sector requests and the public notice (migration 0011) -------------
class PublicRequest(Base):
    """A citizen's PIPA access request, a disclosure request, or one from an insurer, court or police.

    The identity check is recorded as the method used (seen offline), never the ID number.
    """

    __tablename__ = "public_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    requester: Mapped[str] = mapped_column(Text, default="")
    identity_method: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(Text, default="")
    claimed_start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_place: Mapped[str] = mapped_column(Text, default="")
    camera: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    refusal_reason: Mapped[str] = mapped_column(String(64), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: package ids found for the request, comma-separated (the hold and the export name them)
    packages: Mapped[str] = mapped_column(Text, default="")

    steps: Mapped[list[RequestStep]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                    order_by="RequestStep.id")


class RequestStep(Base):
    """One step of a request (received, searched, held, masked, delivered...) and its ledger entry."""

    __tablename__ = "request_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("public_requests.id", ondelete="CASCADE"), index=True)
    time_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    step: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    ledger_event: Mapped[str] = mapped_column(String(36), default="")

    request: Mapped[PublicRequest] = relationship(back_populates="steps")


class NoticeVersion(Base):
    """One version of the public CCTV notice; published versions are kept, never overwritten."""

    __tablename__ = "notice_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="ko")
    author: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class PendingPublication(Base):
    """A package being published: written before the atomic publish, removed once it is catalogued and in the ledger.

    A process killed between those steps leaves a published package the
    catalog and the ledger do not know; the next run finds it here (instead
    of walking all of storage) and completes it (``preservation.publish.recover``).
    """

    __tablename__ = "pending_publications"

    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    location: Mapped[str] = mapped_column(String(64), nullable=False)
    owner: Mapped[str] = mapped_column(String(255), nullable=False)  # "host:pid" of the publishing process
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
class ConnectorState(Base):
    """What one watch (a connector feeding the archive) has done so far: its cursor, the gaps it has recorded,
    and which process runs it (migration 0033).

    In the catalog, not in a file of the archive folder, so that a watcher on
    another machine sharing only the database continues where this one stopped
    and never takes a clip twice: ``version`` is compared and set on every
    save, and ``owner`` says which process holds the watch
    (``plugins/connectors/state.py``). Operational state, not a decision:
    ``reindex`` leaves it alone; a lost catalog costs re-listing, never a second
    copy (ingest knows the bytes it already archived).
    """

    __tablename__ = "connector_state"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # the watch name
    cursor: Mapped[str | None] = mapped_column(Text)
    gaps: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list of {camera, start, end, reason}
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    owner: Mapped[str] = mapped_column(String(255), nullable=False, default="")  # "host:pid" of the running watch
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConnectorClip(Base):
    """One clip a watch has dealt with: ``pending`` (its ingest began), ``done`` (stored as ``package_id``) or
    ``rejected`` (refused for good, with the code). One row per clip, so a save writes what changed only."""

    __tablename__ = "connector_clips"

    watch: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    package_id: Mapped[str] = mapped_column(String(36), nullable=False, default="")
    code: Mapped[str] = mapped_column(String(16), nullable=False, default="")


class DetectorState(Base):
    """A detection run's checkpoint on one clip for one detector identity (migration 0033).

    In the catalog so that a run interrupted on one worker resumes on any
    other that shares the database (``core/events/detect.py``).
    """

    __tablename__ = "detector_state"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # package.clip.detector.fingerprint
    body: Mapped[str] = mapped_column(Text, nullable=False)  # JSON: done_until, complete, detections
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class FootageGap(Base):
    """A time a camera should have recorded and did not (a stream drop, an empty segment).

    Recorded by the watch as the connector reports it, with its custody ledger
    event, so searches and reports can say "no footage from X to Y" instead of
    staying silent. The ledger entry (and each package's technical.json) is the
    durable record; this row is its index.
    """

    __tablename__ = "footage_gaps"
    __table_args__ = (
        UniqueConstraint("camera", "start_utc", "end_utc", name="uq_footage_gaps_camera_start_end"),
        Index("ix_footage_gaps_camera_start", "camera", "start_utc"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera: Mapped[str] = mapped_column(String(64), nullable=False)
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ledger_event: Mapped[str] = mapped_column(String(36), nullable=False, default="")
# -- analytics rollups (migration 0017) ------------------------------------------
class AnalyticsHourly(Base):
    """Event counts per camera, local wall-clock hour, class and package: a cache of the events table,
    kept in step on every flush that adds or removes an event (core/public/analytics.py)."""

    __tablename__ = "analytics_hourly"

    camera: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour_local: Mapped[str] = mapped_column(String(13), primary_key=True)  # YYYY-MM-DDTHH, archive zone
    cls: Mapped[str] = mapped_column(String(16), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # "" when the event has none
    zone: Mapped[str] = mapped_column(String(200), default="")  # the package's; the registry's wins
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)  # 1 Monday .. 7 Sunday
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (Index("ix_analytics_hourly_hour_local", "hour_local"),)


class AnalyticsPeriod(Base):
    """The same counts per local month (level "m"), year ("y") and all time ("a"), by hour of day
    (grain "h"), weekday ("w") and month ("m"): the whole-archive page reads a few rows per camera."""

    __tablename__ = "analytics_periods"

    # key order = the page's WHERE and GROUP BY: the database aggregates in index order, no sort
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    level: Mapped[str] = mapped_column(String(1), primary_key=True)
    camera: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(7), primary_key=True)  # 00-23, 1-7, or YYYY-MM
    cls: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, YYYY or "", archive zone
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = ({"sqlite_with_rowid": False},)


class AnalyticsDay(Base):
    """The same counts per local day (span "d") and per local week from Monday (span "w"), by hour of
    day, weekday and month (migration 0021): a span that is not whole months reads its partial
    months here, a few rows per camera and day or week, instead of every hourly row."""

    __tablename__ = "analytics_days"

    # key order = the query's WHERE (grain, span, first_day IN ...) then its GROUP BY
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    span: Mapped[str] = mapped_column(String(1), primary_key=True)
    first_day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, archive zone
    camera: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(7), primary_key=True)
    cls: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_utc: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = ({"sqlite_with_rowid": False},)


class AnalyticsState(Base):
    """Whether the rollups are built, and in which time zone (their hours are local)."""

    __tablename__ = "analytics_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
