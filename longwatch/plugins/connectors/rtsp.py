"""RTSP recorder: ffmpeg records a live stream by stream copy into fixed-length segments.

Not a byte is re-encoded: ``ffmpeg -c copy -f segment`` cuts at key frames
into MPEG-TS segments (a truncated TS segment still plays, unlike an MP4
without its index). Each ffmpeg run is a *session* in its own staging folder
with ffmpeg's segment list (start and end of every segment, in seconds from
the first packet). The wall-clock UTC of the first packet is estimated from
ffmpeg's progress reports as the smallest (wall clock - muxed time) seen,
so every segment's UTC range is that instant plus its offsets in the list.

When the stream ends, stalls (no data for ``stall_seconds``) or cannot be
reached, ffmpeg exits and the recorder reconnects with exponential back-off;
the time between the end of one session's last segment and the first packet
of the next is reported as a gap. A segment on disk but missing from the
list (ffmpeg was killed) is archived too, flagged partial: what was received
is kept.

ffmpeg is told the credentials inside the URL (ffmpeg has no other way), so
they appear in its command line; its log is written with them masked.
"""

from __future__ import annotations

import contextlib
import csv
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import quote, urlsplit, urlunsplit

from longwatch import clock
from longwatch.core.media import ffmpeg
from longwatch.core.media.probe import require
from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.plugins.connectors.base import Camera, CameraConnector, ClipInfo, Gap, Option, iso
from longwatch.plugins.connectors.watch import write_atomic

SESSION = "session.json"
LIST = "segments.csv"
SEGMENT = "seg%06d.ts"


def classify(stderr: str, device: str, user: str) -> LongwatchError:
    """ffmpeg's last words as a coded error."""
    text = stderr.lower()
    if "401" in text or "unauthorized" in text or "403" in text or "forbidden" in text:
        return LongwatchError("N003", device=device, user=user or "-")
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return LongwatchError("N002", device=device, detail=lines[-1][-200:] if lines else "no answer")


class RtspRecorder(CameraConnector):
    """Records one RTSP camera into fixed-length segments with UTC boundaries and gap events."""

    NAME = "rtsp"
    DESCRIPTION = "records an RTSP stream by stream copy into fixed-length segments"
    OPTIONS: ClassVar[dict[str, Option]] = {
        "url": Option(str, required=True, help="rtsp://host:port/path (credentials go in username/password)"),
        "camera": Option(str, required=True),
        "username": Option(str, default=""),
        "password": Option(str, default="", secret=True),
        "segment_seconds": Option(float, default=60.0),
        "pack_seconds": Option(float, default=3600.0,
                               help="segments of this window (a camera-hour) share one package; 0: one each"),
        "stall_seconds": Option(float, default=10.0, help="no data this long = stalled, reconnect"),
        "backoff_min": Option(float, default=1.0),
        "backoff_max": Option(float, default=60.0),
        "transport": Option(str, default="tcp"),
        "zone": Option(str, default=""),
        "min_free_mb": Option(float, default=256.0, help="stop recording below this free space"),
        "max_clock_skew_hours": Option(float, default=24.0),
    }

    def __init__(self, config: Any, state_dir: Path) -> None:
        raw = dict(config)
        parts = urlsplit(str(raw.get("url") or ""))
        if parts.username or parts.password:  # move credentials out of the URL, never keep them in it
            raw.setdefault("username", parts.username or "")
            if parts.password and not raw.get("password"):
                raw["password"] = parts.password
            host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
            raw["url"] = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        super().__init__(raw, state_dir)
        if urlsplit(self.config["url"]).scheme not in ("rtsp", "rtsps"):
            raise LongwatchError("N001", connector=self.NAME, detail="'url' must start with rtsp://")
        self.segments_dir = self.state_dir / "segments"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[str] | None = None
        self.last_error: LongwatchError | None = None

    @property
    def device(self) -> str:
        return self.config["url"]

    def _ffmpeg_url(self) -> str:
        url = self.config["url"]
        user, password = self.config["username"], self.config["password"].reveal()
        if not user:
            return str(url)
        parts = urlsplit(url)
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        return urlunsplit(parts._replace(netloc=f"{auth}@{parts.netloc}"))

    def _mask(self, text: str) -> str:
        secret = self.config["password"].reveal()
        for value in {secret, quote(secret, safe="")} - {""}:
            text = text.replace(value, "***")
        return text

    # -- the device ----------------------------------------------------------
    def discover(self) -> list[Camera]:
        require("ffprobe")
        timeout = max(1.0, self.config["stall_seconds"])
        cmd = ffmpeg.rtsp_probe(self._ffmpeg_url(), self.config["transport"], timeout)
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10, check=False)
        except subprocess.TimeoutExpired:
            raise LongwatchError("N002", device=self.device, detail=f"no answer in {timeout:.0f} s") from None
        if result.returncode != 0:
            raise classify(self._mask(result.stderr), self.device, self.config["username"])
        return [Camera(id=self.config["camera"], zone=self.config["zone"])]

    # -- recording -----------------------------------------------------------
    def open(self) -> None:
        require("ffmpeg")
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        for folder, info in list(self._sessions()):  # a session of a process that died: ffmpeg is gone too
            if info.get("ended") is None:
                info.update(ended=iso(clock.now()), interrupted=True)
                write_atomic(folder / SESSION, json.dumps(info).encode())
        self._stop.clear()
        self._thread = threading.Thread(target=self._supervise, name=f"rtsp-{self.config['camera']}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)  # ffmpeg closes the open segment and lists it
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _supervise(self) -> None:
        failures = 0
        while not self._stop.is_set():
            free = self.free_bytes(self.segments_dir)
            if free < self.config["min_free_mb"] * (1 << 20):
                self.last_error = LongwatchError("N008", path=self.segments_dir, detail=f"{free} bytes free")
                self._stop.wait(self.config["backoff_max"])
                continue
            got_packets = self._session()
            if self._stop.is_set():
                break
            failures = 0 if got_packets else failures + 1
            delay = min(self.config["backoff_max"], self.config["backoff_min"] * (2 ** max(failures - 1, 0)))
            self._stop.wait(delay)

    def _session(self) -> bool:
        """One ffmpeg run; True when it received packets."""
        name = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.segments_dir / name
        folder.mkdir(parents=True)
        info: dict[str, Any] = {"camera": self.config["camera"], "opened": iso(clock.now()), "t0": None}
        write_atomic(folder / SESSION, json.dumps(info).encode())
        cmd = ffmpeg.rtsp_segments(self._ffmpeg_url(), self.config["transport"], self.config["stall_seconds"],
                                   self.config["segment_seconds"], folder / LIST, folder / SEGMENT)
        log = open(folder / "ffmpeg.log", "w", encoding="utf-8")
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        except OSError as exc:
            log.close()
            self.last_error = LongwatchError("N002", device=self.device, detail=str(exc))
            return False
        self._proc = proc
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.extend(proc.stderr or []), daemon=True)
        reader.start()
        t0: float | None = None
        assert proc.stdout is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit() and int(value) > 0:
                estimate = time.time() - int(value) / 1_000_000
                if t0 is None or estimate < t0:
                    first = t0 is None
                    t0 = estimate
                    info["t0"] = t0
                    if first:
                        write_atomic(folder / SESSION, json.dumps(info).encode())
        proc.wait()
        reader.join(timeout=5)
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        self._proc = None
        text = self._mask("".join(errors))
        log.write(text)
        log.close()
        info.update({"t0": t0, "ended": iso(clock.now()), "returncode": proc.returncode})
        if t0 is None:
            self.last_error = classify(text, self.device, self.config["username"])
            info["error"] = self.last_error.code
        write_atomic(folder / SESSION, json.dumps(info).encode())
        return t0 is not None

    # -- what was recorded ------------------------------------------------------
    def _sessions(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        if not self.segments_dir.is_dir():
            return
        for folder in sorted(p for p in self.segments_dir.iterdir() if p.is_dir()):
            try:
                yield folder, json.loads((folder / SESSION).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue

    @staticmethod
    def _listed(folder: Path) -> list[tuple[str, float, float]]:
        try:
            with open(folder / LIST, encoding="utf-8", newline="") as fh:
                return [(row[0], float(row[1]), float(row[2])) for row in csv.reader(fh) if len(row) >= 3]
        except (OSError, ValueError):
            return []

    def _segments(self, folder: Path, info: dict[str, Any]) -> list[tuple[str, float, float | None, bool]]:
        listed = [(name, start, end, False) for name, start, end in self._listed(folder)]
        out: list[tuple[str, float, float | None, bool]] = list(listed)
        if info.get("ended"):  # ffmpeg is gone: any unlisted file is a partial segment, kept
            names = {name for name, *_ in listed}
            last_end = listed[-1][2] if listed else 0.0
            for path in sorted(folder.glob("seg*.ts")):
                if path.name not in names and path.stat().st_size > 0:
                    out.append((path.name, last_end, None, True))
        return out

    def list_clips(self, cursor: str | None) -> Iterator[ClipInfo]:
        camera = self.config["camera"]
        for folder, info in self._sessions():
            if info.get("t0") is None:
                continue
            t0 = datetime.fromtimestamp(float(info["t0"]), UTC)
            for name, start, end, partial in self._segments(folder, info):
                position = f"{folder.name}/{name}"
                path = folder / name
                if (cursor and position <= cursor) or not path.exists():
                    continue
                clip_start = t0 + timedelta(seconds=start)
                size = path.stat().st_size
                # MPEG-TS is 188-byte packets: a segment that is not a whole number of them was cut
                # mid-write (ffmpeg killed, disk full) and is archived as received, flagged partial
                partial = partial or size % 188 != 0
                group, window = self._window(clip_start)
                yield ClipInfo(
                    key=f"{camera}/{position}", camera=camera, name=f"{camera}_{folder.name}_{name}",
                    start=clip_start, group=group, group_range=window,
                    end=t0 + timedelta(seconds=end) if end is not None else None,
                    size=size, cursor=position, partial=partial, allow_duplicate=True,
                    metadata={"segment": position, "url": self.device, "zone": self.config["zone"],
                              "first_packet_utc": iso(t0), "offset_seconds": [start, end]})

    def _window(self, start: datetime) -> tuple[str, tuple[datetime, datetime] | None]:
        """The camera-hour (``pack_seconds``, aligned to UTC) a segment starting at ``start`` belongs to."""
        size = self.config["pack_seconds"]
        if not size or size <= 0:
            return "", None
        begin = datetime.fromtimestamp(start.timestamp() // size * size, UTC)
        return f"{self.config['camera']}/{iso(begin)}", (begin, begin + timedelta(seconds=size))

    def pack_grace(self) -> timedelta:
        """The segment open at the window's end is listed when it closes, or when a stall ends the session."""
        return timedelta(seconds=2 * self.config["segment_seconds"] + self.config["stall_seconds"] + 5)

    def _path(self, clip: ClipInfo) -> Path:
        return self.segments_dir / clip.metadata["segment"]

    def local_path(self, clip: ClipInfo) -> Path | None:
        return self._path(clip)

    def open_clip(self, clip: ClipInfo) -> BinaryIO:
        return open(self._path(clip), "rb")

    def acknowledge(self, clip: ClipInfo, package_id: str) -> None:
        """The segment is stored and verified: free the staging space (the session list stays)."""
        self._path(clip).unlink(missing_ok=True)

    def gaps(self) -> list[Gap]:
        """Between the end of one session's last segment and the first packet of the next."""
        camera = self.config["camera"]
        found: list[Gap] = []
        previous_end: datetime | None = None
        reason = ""
        for folder, info in self._sessions():
            if info.get("t0") is None:
                reason = info.get("error") or reason or "no stream"
                continue
            t0 = datetime.fromtimestamp(float(info["t0"]), UTC)
            if previous_end is not None and t0 > previous_end:
                found.append(Gap(camera, previous_end, t0, reason or "stream ended"))
            segments = self._segments(folder, info)
            ends = [end for _, _, end, _ in segments if end is not None]
            previous_end = t0 + timedelta(seconds=max(ends)) if ends else t0
            reason = ""
            if info.get("ended") is None:
                break  # the live session
        return found


@hookimpl
def register_camera_connectors() -> list[type[CameraConnector]]:
    return [RtspRecorder]
