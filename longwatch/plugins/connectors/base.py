"""The CameraConnector base class: what a vendor implements to bring footage in.

A connector only *finds and reads* footage; the archive does everything else
(digest, package, sign, store, catalog) in ``core.ingest``, the same way for
every source. So a connector never writes packages and never re-encodes: it
hands over the bytes exactly as the device produced them, plus what it knows
about them (camera, UTC range, the camera's clock offset, gaps, a native
signature). ``longwatch.testing.CameraConnectorContract`` proves an
implementation against this contract.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from longwatch import clock
from longwatch.errors import LongwatchError

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


class Secret:
    """A configuration value that must never reach a log, a repr or an error message."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear value: call only where the device needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", self._value))


@dataclass(frozen=True)
class Option:
    """One configuration key: its type, whether it is required, and whether it is a secret."""

    type: type = str
    required: bool = False
    default: Any = None
    secret: bool = False
    help: str = ""


@dataclass(frozen=True)
class Camera:
    """A camera the source knows; ``clock_offset`` is camera clock minus true UTC."""

    id: str
    name: str = ""
    zone: str = ""
    location_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    clock_offset: timedelta = timedelta(0)


@dataclass(frozen=True)
class Gap:
    """A time with no footage from a camera that should have had some (an outage, a lost segment)."""

    camera: str
    start: datetime
    end: datetime
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"camera": self.camera, "start": iso(self.start), "end": iso(self.end), "reason": self.reason}


@dataclass
class ClipInfo:
    """One clip a connector offers: a contiguous recording file from one camera, as the source holds it.

    ``key`` is stable across restarts and unique within the source (the watch
    remembers it, so a clip is never archived twice). ``start``/``end`` are
    true UTC (the camera's clock corrected by ``clock_offset``). ``cursor`` is
    what to pass to ``list_clips`` to resume *after* this clip.
    """

    key: str
    camera: str
    name: str
    start: datetime | None
    end: datetime | None = None
    clock_offset: timedelta = timedelta(0)
    size: int | None = None
    cursor: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    partial: bool = False
    #: True when equal bytes at another time are a different recording (a static scene in
    #: fixed-length segments): such clips are never deduplicated by SHA-256.
    allow_duplicate: bool = False
    #: Clips with the same non-empty ``group`` are packed into ONE package (a camera-hour of
    #: segments), each still its own payload file and catalog clip; "" means a package per clip.
    group: str = ""
    #: The UTC window the group covers; the watch packs the group once its end (plus the
    #: connector's ``pack_grace``) has passed, a later group appears, or the connector closes.
    group_range: tuple[datetime, datetime] | None = None


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


class CameraConnector:
    """Base class of every camera connector, built-in or third-party.

    Subclasses set ``NAME`` (kebab-case; the key in ``longwatch watch NAME``)
    and ``OPTIONS`` (the configuration keys), and implement ``discover``,
    ``list_clips`` and ``open_clip``. Everything else has a safe default.
    Raise ``LongwatchError("N002", ...)`` when the device cannot be reached
    and ``LongwatchError("N003", ...)`` when it refuses the credentials.
    """

    NAME: ClassVar[str] = ""
    #: Human description shown by ``longwatch connectors``.
    DESCRIPTION: ClassVar[str] = ""
    OPTIONS: ClassVar[Mapping[str, Option]] = {}

    def __init__(self, config: Mapping[str, Any], state_dir: Path) -> None:
        self.config = self.validate_config(config)
        self.state_dir = Path(state_dir)
        #: Problems with single clips found while listing (a bad sidecar): reported by the
        #: watch, while the other clips go on. The clip itself stays where it is.
        self.problems: list[tuple[str, LongwatchError]] = []

    # -- configuration ---------------------------------------------------------
    @classmethod
    def validate_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Check every key against OPTIONS; secrets come back wrapped in :class:`Secret`.

        The error names the key and the problem, never the value (it may be a password).
        """
        if not isinstance(raw, Mapping):
            raise LongwatchError("N001", connector=cls.NAME, detail="expected a table of settings")
        unknown = sorted(set(raw) - set(cls.OPTIONS) - {"name"})
        if unknown:
            raise LongwatchError("N001", connector=cls.NAME, detail=f"unknown keys {', '.join(unknown)}")
        config: dict[str, Any] = {"name": str(raw.get("name") or cls.NAME)}
        for key, option in cls.OPTIONS.items():
            value = raw.get(key, option.default)
            if value is None or value == "":
                if option.required:
                    raise LongwatchError("N001", connector=cls.NAME, detail=f"{key!r} is required")
                config[key] = Secret("") if option.secret else value
                continue
            if isinstance(value, Secret):
                value = value.reveal()
            try:
                if option.type is bool and not isinstance(value, bool):
                    raise ValueError
                converted = option.type(value)
            except (TypeError, ValueError):
                raise LongwatchError("N001", connector=cls.NAME,
                                     detail=f"{key!r} must be of type {option.type.__name__}") from None
            config[key] = Secret(converted) if option.secret else converted
        return config

    def public_config(self) -> dict[str, Any]:
        """The configuration as it may be shown or logged: secrets masked."""
        return {k: ("***" if isinstance(v, Secret) and v else ("" if isinstance(v, Secret) else v))
                for k, v in self.config.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.public_config()!r})"

    @property
    def device(self) -> str:
        """How errors name the source (never with credentials)."""
        return str(self.config.get("name") or self.NAME)

    # -- life cycle ------------------------------------------------------------
    def open(self) -> None:
        """Start background work (a recorder); the default has none."""

    def close(self) -> None:
        """Stop background work and finish what was received, so a last listing archives it."""

    # -- what the source holds ---------------------------------------------------
    def discover(self) -> list[Camera]:  # pragma: no cover - abstract
        """The cameras this source serves (contact the device: unreachable is N002)."""
        raise NotImplementedError

    def list_clips(self, cursor: str | None) -> Iterable[ClipInfo]:  # pragma: no cover - abstract
        """Clips complete and not yet acknowledged after ``cursor`` (None: from the start), oldest first."""
        raise NotImplementedError

    def open_clip(self, clip: ClipInfo) -> BinaryIO:  # pragma: no cover - abstract
        """The clip's bytes exactly as the source holds them."""
        raise NotImplementedError

    def local_path(self, clip: ClipInfo) -> Path | None:
        """A local file holding exactly the clip's bytes, when there is one (saves a copy)."""
        return None

    def sidecars(self, clip: ClipInfo) -> dict[str, bytes]:
        """Vendor metadata files that belong to the clip, name -> bytes as received."""
        return {}

    def native_signature(self, clip: ClipInfo) -> bytes | None:
        """The source's own signature or watermark record for the clip, when it has one."""
        return None

    def gaps(self) -> list[Gap]:
        """Outages the source knows of (recorded, reported to the archive, never silently dropped)."""
        return []

    def pack_grace(self) -> timedelta:
        """How long after a group's window ends a clip of it may still appear (a segment being written)."""
        return timedelta(0)

    def acknowledge(self, clip: ClipInfo, package_id: str) -> None:
        """Called only after the clip's package is stored and verified: now the original may be released."""

    # -- helpers for subclasses ------------------------------------------------------
    @staticmethod
    def free_bytes(path: Path) -> int:
        return shutil.disk_usage(path).free

    def check_clock(self, clip: ClipInfo, now: datetime | None = None) -> None:
        """Refuse times that cannot be true (camera clock far off): N009, the file stays where it is."""
        limit = timedelta(hours=float(self.config.get("max_clock_skew_hours") or 24))
        now = now or clock.now()
        if clip.start is not None and (clip.start > now + limit or clip.start.year < 1995):
            raise LongwatchError("N009", camera=clip.camera, name=clip.name, start=iso(clip.start))


def check_name(cls: type[CameraConnector]) -> str:
    if not _NAME.match(cls.NAME or ""):
        raise LongwatchError("P003", detail=f"connector {cls.__name__} has no kebab-case NAME")
    return cls.NAME

