"""Drop folder: files copied into a directory (an NVR's export share, a USB stick) are archived.

A file counts as complete when a marker ``<file>.done`` exists next to it, or
when it has settled: its modification time is at least ``settle_seconds`` old
and, if it was seen before, its size and mtime are what they were then (so
``watch --once`` from cron works without markers). Metadata comes from a JSON sidecar
(``clip.mp4.json`` / ``clip.json``), a CSV sidecar (``clip.mp4.csv`` /
``clip.csv``: a header row and one row), or the file name (``pattern``). The
original is moved (``after = "move"``) or marked in the watch's own state
(``after = "mark"``, the folder stays untouched) only after its package is
stored and verified, so a restart never loses a file and never stores one twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from longwatch.clock import parse_time
from longwatch.core.preservation.ingest import check_camera, check_source, open_source
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.plugins.connectors.base import Camera, CameraConnector, ClipInfo, Option

MEDIA_SUFFIXES = (".mp4", ".mkv", ".mov", ".m4v", ".ts", ".avi", ".dav", ".h264", ".264", ".mxf", ".ps", ".webm")
MARKER = ".done"
HIDDEN_PREFIXES = (".", "~")
MAX_SIDECAR = 1 << 20


class DropFolderConnector(CameraConnector):
    """Archives complete files from a folder, with metadata from sidecars or the file name."""

    NAME = "drop-folder"
    DESCRIPTION = "files placed in a folder (NVR export share, USB copy)"
    OPTIONS: ClassVar[dict[str, Option]] = {
        "path": Option(str, required=True, help="folder to watch"),
        "camera": Option(str, default="", help="camera id when neither sidecar nor name says"),
        "zone": Option(str, default=""),
        "after": Option(str, default="move", help="move: into done_dir; mark: leave the folder untouched"),
        "done_dir": Option(str, default="", help="where archived originals go (default <path>/.longwatch-archived)"),
        "settle_seconds": Option(float, default=5.0, help="unchanged this long = complete"),
        "pattern": Option(str, default="", help="regex with named groups camera, start (and end)"),
        "time_format": Option(str, default="%Y%m%dT%H%M%S%z", help="strptime format of the start group"),
        "timezone": Option(str, default="UTC", help="zone of times in names that carry no offset"),
        "clock_offset_seconds": Option(float, default=0.0, help="camera clock minus true UTC"),
        "max_clock_skew_hours": Option(float, default=24.0),
    }

    def __init__(self, config: Any, state_dir: Path) -> None:
        super().__init__(config, state_dir)
        self.folder = Path(self.config["path"]).expanduser()
        if self.config["after"] not in ("move", "mark"):
            raise LongwatchError("N001", connector=self.NAME, detail="'after' must be 'move' or 'mark'")
        self.done_dir = Path(self.config["done_dir"]) if self.config["done_dir"] else \
            self.folder / ".longwatch-archived"
        try:
            self.pattern = re.compile(self.config["pattern"]) if self.config["pattern"] else None
        except re.error as exc:
            raise LongwatchError("N001", connector=self.NAME, detail=f"'pattern': {exc}") from exc
        try:
            self.zone = ZoneInfo(self.config["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise LongwatchError("N001", connector=self.NAME, detail="'timezone' is not a known zone") from exc
        self.offset = timedelta(seconds=self.config["clock_offset_seconds"])
        self._seen: dict[str, tuple[int, int]] = {}

    # -- reachability ----------------------------------------------------------
    def _check_folder(self) -> None:
        if not self.folder.is_dir():
            raise LongwatchError("N002", device=self.device, detail=f"{self.folder} is not a readable folder")
        if not os.access(self.folder, os.R_OK | os.X_OK):
            raise LongwatchError("N003", device=self.device, user=os.environ.get("USER", "?"))

    def discover(self) -> list[Camera]:
        self._check_folder()
        ids = {c.camera for c in self._scan(settled_only=False)}
        if self.config["camera"]:
            ids.add(self.config["camera"])
        return [Camera(id=i, zone=self.config["zone"], clock_offset=self.offset) for i in sorted(ids) if i]

    # -- listing ---------------------------------------------------------------
    def list_clips(self, cursor: str | None) -> Iterator[ClipInfo]:
        self._check_folder()
        clips = list(self._scan(settled_only=True))
        clips.sort(key=lambda c: (c.start or datetime.min.replace(tzinfo=UTC), c.name))
        yield from clips

    def _candidates(self) -> Iterator[Path]:
        done = self.done_dir.resolve() if self.done_dir.exists() else None
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(HIDDEN_PREFIXES)
                             and (done is None or (Path(root) / d).resolve() != done))
            for name in sorted(files):
                path = Path(root) / name
                if name.startswith(HIDDEN_PREFIXES) or path.is_symlink() or not path.is_file():
                    continue  # temporary copies, links out of the folder
                if path.suffix.lower() in MEDIA_SUFFIXES:
                    yield path

    def _scan(self, settled_only: bool) -> Iterator[ClipInfo]:
        now = time.time()
        for path in self._candidates():
            try:
                st = path.stat()
            except OSError:
                continue
            rel = path.relative_to(self.folder).as_posix()
            if st.st_size == 0:
                continue
            if settled_only and not self._is_complete(path, rel, st, now):
                continue
            key = f"{rel}|{st.st_size}|{st.st_mtime_ns}"
            if self.config["after"] == "mark" and self._mark_path(key).exists():
                continue
            try:
                clip = self._clip(path, rel, key, st.st_size)
            except LongwatchError as exc:  # one bad sidecar must not hold up the other files
                if settled_only:
                    self.problems.append((path.name, exc))
                continue
            yield clip

    def _is_complete(self, path: Path, rel: str, st: os.stat_result, now: float) -> bool:
        """A ``.done`` marker, or a file that has settled: nothing written to it for ``settle_seconds``.

        Every write moves the mtime forward, so a file whose mtime is that old
        has settled even at the first look: ``watch --once`` from cron archives
        it (a pass sees each file once, so two looks never happen there). A
        file seen before must also be unchanged since that look.
        """
        if path.with_name(path.name + MARKER).exists():
            return True
        settle = self.config["settle_seconds"]
        previous = self._seen.get(rel)
        self._seen[rel] = (st.st_size, st.st_mtime_ns)
        if settle <= 0:
            return True
        unchanged = previous is None or previous == (st.st_size, st.st_mtime_ns)
        return unchanged and now - st.st_mtime >= settle

    # -- metadata --------------------------------------------------------------
    def _sidecar_paths(self, path: Path) -> list[Path]:
        out = []
        for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json"),
                          path.with_name(path.name + ".csv"), path.with_suffix(".csv")):
            if candidate.is_file() and not candidate.is_symlink() and candidate not in out:
                out.append(candidate)
        return out

    def _read_sidecar(self, side: Path) -> dict[str, Any]:
        try:
            if side.stat().st_size > MAX_SIDECAR:
                raise LongwatchError("I005", path=side, detail=f"larger than {MAX_SIDECAR} bytes")
            text = side.read_text(encoding="utf-8-sig")
            if side.suffix == ".json":
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                return data
            rows = list(csv.DictReader(io.StringIO(text)))
            if len(rows) != 1:
                raise ValueError("expected a header row and exactly one row")
            return {k.strip(): (v or "").strip() for k, v in rows[0].items() if k}
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            raise LongwatchError("I005", path=side, detail=str(exc)) from exc

    def names_to_fields(self, path: Path) -> dict[str, Any]:
        """Camera and camera-clock start from the file name (``pattern``); subclasses know vendor names."""
        if self.pattern is None:
            return {}
        match = self.pattern.search(path.name)
        if not match:
            return {}
        groups = {k: v for k, v in match.groupdict().items() if v}
        fields: dict[str, Any] = {}
        if "camera" in groups:
            fields["camera"] = groups["camera"]
        for key in ("start", "end"):
            if key in groups:
                fields[key] = self.parse_name_time(groups[key], self.config["time_format"])
        return fields

    def parse_name_time(self, text: str, fmt: str) -> datetime:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError as exc:
            raise LongwatchError("I003", value=text) from exc
        return value.replace(tzinfo=self.zone) if value.tzinfo is None else value

    def _clip(self, path: Path, rel: str, key: str, size: int) -> ClipInfo:
        named = self.names_to_fields(path)
        fields: dict[str, Any] = dict(named)
        sidecar_fields: dict[str, Any] = {}
        for side in self._sidecar_paths(path):
            sidecar_fields.update(self._read_sidecar(side))
        fields.update({k: v for k, v in sidecar_fields.items() if v not in (None, "")})
        camera = str(fields.get("camera") or self.config["camera"] or "")
        check_camera(camera)
        offset = self.offset
        if "clock_offset_seconds" in sidecar_fields:
            offset = timedelta(seconds=float(sidecar_fields["clock_offset_seconds"]))

        def utc(value: Any) -> datetime | None:
            if value in (None, ""):
                return None
            camera_time = value if isinstance(value, datetime) else parse_time(str(value))
            return camera_time.astimezone(UTC) - offset

        extra = {k: fields[k] for k in ("zone", "title", "description", "location_name", "vendor") if fields.get(k)}
        if named.get("embedded"):  # what the connector read inside the file (never a sidecar's say)
            extra["embedded"] = named["embedded"]
        if isinstance(named.get("warning"), LongwatchError):  # the watch reports it once the clip is stored
            extra["warning"] = {"code": named["warning"].code, "context": named["warning"].context}
        partial = str(named.get("partial") or "")
        if partial:
            extra["partial_reason"] = partial
        return ClipInfo(key=key, camera=camera, name=path.name, start=utc(fields.get("start")),
                        end=utc(fields.get("end")), clock_offset=offset, size=size,
                        metadata={"relative_path": rel, **extra}, partial=bool(partial))

    # -- bytes -----------------------------------------------------------------
    def _path(self, clip: ClipInfo) -> Path:
        return self.folder / clip.metadata["relative_path"]

    def local_path(self, clip: ClipInfo) -> Path | None:
        return self._path(clip)

    def open_clip(self, clip: ClipInfo) -> BinaryIO:
        """The listed file only if it is still a regular file: a name swapped for a link or FIFO is refused."""
        path = self._path(clip)
        return open_source(path, check_source(path))

    def sidecars(self, clip: ClipInfo) -> dict[str, bytes]:
        return {side.name: side.read_bytes() for side in self._sidecar_paths(self._path(clip))}

    # -- release -----------------------------------------------------------------
    def _mark_path(self, key: str) -> Path:
        return self.state_dir / "marks" / hashlib.sha256(key.encode("utf-8")).hexdigest()

    def acknowledge(self, clip: ClipInfo, package_id: str) -> None:
        path = self._path(clip)
        if self.config["after"] == "mark":
            mark = self._mark_path(clip.key)
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.write_text(json.dumps({"key": clip.key, "package_id": package_id}), encoding="utf-8")
            return
        if not path.exists():
            return  # moved before a crash
        rel = Path(clip.metadata["relative_path"])
        target = self.done_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target = target.with_name(f"{target.stem}.{package_id[:8]}{target.suffix}")
        for side in self._sidecar_paths(path):
            shutil.move(str(side), str(target.parent / side.name.replace(path.name, target.name, 1)))
        path.with_name(path.name + MARKER).unlink(missing_ok=True)
        shutil.move(str(path), str(target))


@hookimpl
def register_camera_connectors() -> list[type[CameraConnector]]:
    return [DropFolderConnector]
