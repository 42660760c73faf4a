"""Probing: what ffprobe and exiftool say about a file, the tools' versions, and test footage.

Probing never changes the file and never decides whether footage is kept:
a file that ffprobe cannot read is still preserved bit for bit, with a failed
validation event (damaged footage is still evidence). :func:`require` is the
check every caller of ffmpeg makes first (T001 names the package to
install), and :func:`tool_version` is what PREMIS records as the agent.

The media tools are called from ``longwatch/core/media/`` only: probing here,
every other ffmpeg/ffprobe command line in :mod:`longwatch.core.media.ffmpeg`
and frame decoding in :mod:`longwatch.core.media.frames`
(``tests/test_media_layout.py`` keeps it so).
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import exiftool
import ffmpeg

from longwatch.core.media.ffmpeg import synthetic_clip
from longwatch.errors import LongwatchError

TOOLS = {"ffprobe": "ffmpeg", "ffmpeg": "ffmpeg", "exiftool": "libimage-exiftool-perl"}


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise LongwatchError("T001", tool=tool, package=TOOLS.get(tool, tool))
    return path


#: each tool's version, once per process; a probe fills it in as it runs (issue 23: asking a tool its version
#: costs a process start-up, Perl's for exiftool, on every ingest command)
_VERSIONS: dict[str, str] = {}


def tool_version(tool: str) -> str:
    """'5.1.6-0+deb12u1' for ffprobe, '12.57' for exiftool; recorded as PREMIS agents."""
    if tool in _VERSIONS:
        return _VERSIONS[tool]
    require(tool)
    flag = "-ver" if tool == "exiftool" else "-version"
    out = subprocess.run([tool, flag], capture_output=True, text=True, timeout=30, check=False).stdout
    first = out.strip().splitlines()[0] if out.strip() else "unknown"
    parts = first.split()
    if tool != "exiftool" and len(parts) > 2 and parts[1] == "version":
        first = parts[2]
    return _VERSIONS.setdefault(tool, first)


def _seen_version(tool: str, version: Any) -> None:
    """A version a running tool reported (ffprobe's program_version, exiftool's -ver), the same string
    ``tool_version`` reads from ``TOOL -version``."""
    if isinstance(version, str) and version.strip():
        _VERSIONS.setdefault(tool, version.strip())


@dataclass
class ProbeResult:
    """What the tools say about a file; ``ok`` is False when ffprobe could not read it."""

    ok: bool
    ffprobe: dict[str, Any] = field(default_factory=dict)
    exiftool: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def format_name(self) -> str:
        return str(self.ffprobe.get("format", {}).get("format_name", ""))

    @property
    def format_long_name(self) -> str:
        return str(self.ffprobe.get("format", {}).get("format_long_name", ""))

    @property
    def duration(self) -> float | None:
        value = self.ffprobe.get("format", {}).get("duration")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    @property
    def video_stream(self) -> dict[str, Any]:
        for stream in self.ffprobe.get("streams", []):
            if stream.get("codec_type") == "video":
                return dict(stream)
        return {}

    @property
    def creation_time(self) -> datetime | None:
        """The container's creation_time, when it carries one with a zone."""
        tags = self.ffprobe.get("format", {}).get("tags", {})
        value = tags.get("creation_time")
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else None

    @property
    def mime_type(self) -> str:
        return str(self.exiftool.get("File:MIMEType", "application/octet-stream"))


def probe(path: Path, exif: bool = True) -> ProbeResult:
    """ffprobe (and exiftool unless ``exif`` is False: a derived cut of a known file needs no Perl start-up).

    The two run side by side (issue 23): both are other processes, and exiftool's Perl start-up is
    as long as ffprobe's whole run on a short clip.
    """
    require("ffprobe")
    with ThreadPoolExecutor(1, "longwatch-exif") as background:
        tags = background.submit(_exif, path) if exif else None
        try:
            info = ffmpeg.probe(str(path), cmd="ffprobe", show_program_version=None)
        except ffmpeg.Error as exc:
            detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
            return ProbeResult(ok=False, error=detail[-1] if detail else "ffprobe failed",
                               exiftool=tags.result() if tags else {})
        _seen_version("ffprobe", (info.pop("program_version", None) or {}).get("version"))  # the record stays
        ok = any(s.get("codec_type") == "video" for s in info.get("streams", []))
        error = "" if ok else "no video stream"
        return ProbeResult(ok=ok, ffprobe=info, exiftool=tags.result() if tags else {}, error=error)


def _exif(path: Path) -> dict[str, Any]:
    if shutil.which("exiftool") is None:
        return {}
    try:
        str(path).encode("utf-8")
        plain = not any(c in str(path) for c in "\r\n")
    except UnicodeEncodeError:
        plain = False
    if not plain:
        # A name that is not UTF-8 (CP949 from a Windows share) cannot be passed on; a name with a
        # line break would split into two exiftool arguments (-stay_open reads one per line), an
        # injection. exiftool reads the same file through a link with a plain name instead.
        with tempfile.TemporaryDirectory(prefix="longwatch-exif-") as tmp:
            link = Path(tmp) / "media"
            link.symlink_to(path.resolve())
            return _exif(link)
    try:
        helper = _take_exiftool()
    except (exiftool.exceptions.ExifToolException, OSError, TimeoutError):
        return {}
    try:
        _seen_version("exiftool", helper.version)  # its -ver, asked once when it started
    except exiftool.exceptions.ExifToolException:
        pass
    try:
        # absolute, so that a name starting with "-" is never read as an option
        rows = helper.get_metadata(os.path.abspath(path), params=["-G"])
    except (exiftool.exceptions.ExifToolException, OSError, json.JSONDecodeError, ValueError):
        _discard_exiftool(helper)
        return {}
    _give_back_exiftool(helper)
    if not rows:
        return {}
    row = dict(rows[0])
    for key in ("SourceFile", "File:Directory", "File:FileName", "File:FilePermissions"):
        row.pop(key, None)  # where the operator kept the file says nothing about the footage
    return row


# Perl's start-up is most of exiftool's cost on a small clip (about 0.3 s of CPU against
# milliseconds of reading): a worker ingesting thousands of clips keeps its exiftool processes
# running (-stay_open) and hands them from one probe to the next. Each serves one thread at a
# time; one that failed is dropped, not reused. pyexiftool asks Linux to stop exiftool when the
# *thread* that started it ends (PR_SET_PDEATHSIG), and probes run in short-lived threads, so
# one long-lived daemon thread starts them all. They end with this process: atexit, or that
# signal when the process is killed.
_EXIF_IDLE: list[Any] = []
_EXIF_LOCK = threading.Lock()
_EXIF_KEEP = 4  # idle processes kept; more threads at once start more and close the extra ones
_EXIF_STARTER: dict[str, Any] = {"pid": None, "queue": None}


def _exiftool_starter(requests: queue.Queue[Future[Any]]) -> None:
    while True:
        future = requests.get()
        try:
            helper = exiftool.ExifToolHelper()
            helper.run()
            future.set_result(helper)
        except BaseException as exc:  # handed to the caller, which treats it as any exiftool failure
            future.set_exception(exc)


def _alive(helper: Any) -> bool:
    process = getattr(helper, "_process", None)  # pyexiftool's `running` warns when it died: ask the process
    return process is not None and process.poll() is None


def _take_exiftool() -> Any:
    with _EXIF_LOCK:
        if _EXIF_STARTER["pid"] != os.getpid():  # first use, or forked: the idle ones belong to the parent
            _EXIF_IDLE.clear()
            requests: queue.Queue[Future[Any]] = queue.Queue()
            threading.Thread(target=_exiftool_starter, args=(requests,), name="longwatch-exiftool",
                             daemon=True).start()
            _EXIF_STARTER.update(pid=os.getpid(), queue=requests)
        while _EXIF_IDLE:
            helper = _EXIF_IDLE.pop()
            if _alive(helper):
                return helper
        future: Future[Any] = Future()
        _EXIF_STARTER["queue"].put(future)
    return future.result(timeout=60)


def _give_back_exiftool(helper: Any) -> None:
    with _EXIF_LOCK:
        if _EXIF_STARTER["pid"] == os.getpid() and len(_EXIF_IDLE) < _EXIF_KEEP:
            _EXIF_IDLE.append(helper)
            return
    _discard_exiftool(helper)


def _discard_exiftool(helper: Any) -> None:
    if _alive(helper):
        helper.terminate()


@atexit.register
def _close_exiftools() -> None:
    with _EXIF_LOCK:
        idle = list(_EXIF_IDLE) if _EXIF_STARTER["pid"] == os.getpid() else []
        _EXIF_IDLE.clear()
    for helper in idle:
        _discard_exiftool(helper)


def make_test_clip(
    path: Path,
    seconds: float = 2.0,
    size: str = "320x240",
    rate: int = 25,
    label: str = "",
    start: datetime | None = None,
    source: str = "testsrc2",
) -> Path:
    """Generate honest H.264 test footage with ffmpeg, a clock burned in when ``start`` is given."""
    require("ffmpeg")
    cmd = synthetic_clip(path, seconds=seconds, size=size, rate=rate, label=label, start=start, source=source)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise LongwatchError("I007", path=path, detail=result.stderr.strip()[-300:])
    return path
