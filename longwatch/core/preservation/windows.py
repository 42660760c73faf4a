"""Event windows: a time range over stored clips becomes a derived package, never a re-encode.

A clip that lies wholly inside the window is copied bit for bit (the same
digests as in the source manifest, so provenance is plain). A clip only
partly inside is cut by stream copy (``ffmpeg -c copy``): no decoding, no
re-encoding. A stream-copy cut can only start on a keyframe, so the cut
starts at the last keyframe at or before the requested start; the package
records both the requested and the actual range (the keyframe's time comes
from the cutting ffmpeg itself, :func:`cut_from_keyframe`). Overlapping windows merge
into one (:func:`merge_ranges`) before anything is written.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

from longwatch import clock
from longwatch.core.archive import Archive
from longwatch.core.catalog import Package
from longwatch.core.media import ffmpeg
from longwatch.core.media import probe as media
from longwatch.core.preservation import derive
from longwatch.errors import LongwatchError


@dataclass
class WindowResult:
    package: Package
    requested: tuple[datetime, datetime]
    actual: tuple[datetime, datetime]
    copied: list[str]  # source clips copied whole
    cut: list[str]  # source clips cut by stream copy


def merge_ranges(ranges: list[tuple[datetime, datetime]],
                 gap: timedelta = timedelta(0)) -> list[tuple[datetime, datetime]]:
    """Overlapping (or closer than ``gap``) ranges become one; the result is sorted."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def keyframe_before(path: Path, offset: float) -> float:
    """Time of the last video keyframe at or before ``offset`` seconds, reading packets only (no decoding).

    Looks 10 s back first (CCTV keyframe intervals are a few seconds), then 120 s.
    """
    for back in (10.0, 120.0):
        cmd = ffmpeg.keyframe_packets(path, max(0.0, offset - back), offset + 0.001)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        found = []
        for line in result.stdout.splitlines():
            pts, _, flags = line.partition(",")
            try:
                t = float(pts)
            except ValueError:
                continue
            if "K" in flags and t <= offset + 1e-3:
                found.append(t)
        if found or offset - back <= 0:
            return max(found, default=0.0)
    return 0.0


def cut(source: Path, out: Path, start: float, duration: float) -> list[str]:
    """Stream-copy ``duration`` seconds from ``start`` (from the keyframe before it); returns the command."""
    return cut_from_keyframe(source, out, start, duration)[0]


def cut_from_keyframe(source: Path, out: Path, start: float, duration: float,
                      has_video: bool = True) -> tuple[list[str], float | None]:
    """The stream-copy cut, and the time (seconds from the file's start) of the keyframe it starts on.

    The same ffmpeg process also writes the cut's first video packet to a
    second output, a ``framemd5`` listing on stdout whose timestamps are not
    shifted (``-avoid_negative_ts disabled``): the keyframe sits that far
    before ``start``. One process instead of a cut plus an ffprobe of the
    source's packets; the cut's bytes are the same as without the listing.
    None when the listing has no packet, or the file no video stream to list
    (the caller then asks ffprobe).
    """
    cmd = ffmpeg.stream_copy_cut(source, out, start, duration, list_first_packet=has_video)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise LongwatchError("D010", action="cutting a window", detail=result.stderr.strip()[-300:])
    return cmd, _first_packet_time(result.stdout, round(start, 3))


def _first_packet_time(listing: str, start: float) -> float | None:
    """From a framemd5 listing ('#tb 0: 1/12800', then 'stream, dts, pts, ...'): start + the first pts."""
    base: Fraction | None = None
    for line in listing.splitlines():
        if line.startswith("#tb 0:"):
            base = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#") and base is not None:
            fields = [f.strip() for f in line.split(",")]
            try:
                return max(0.0, start + float(int(fields[2]) * base))
            except (IndexError, ValueError):
                return None
    return None


def window(
    archive: Archive,
    package_id: str,
    start: datetime,
    end: datetime,
    cause: derive.Cause,
    progress: Callable[[int], None] | None = None,
    package_id_out: str | None = None,
    action: str = "window",
) -> WindowResult:
    """Preserve ``start``..``end`` of a stored package as a new derived package.

    ``action`` names the derivation in its PREMIS and bag-info ("window"; the
    retention schedule's planning sample uses "planning-sample").
    """
    if end <= start:
        raise LongwatchError("D007", start=derive.utc_text(start), end=derive.utc_text(end))
    row = archive.catalog.require(package_id)
    clips = [c for c in row.clips if c.duration]
    if not clips:
        raise LongwatchError("D009", package_id=package_id)
    ranges = {c.id: derive.clip_range(c) for c in clips}
    covering = [c for c in clips if ranges[c.id][0] < end and ranges[c.id][1] > start]
    if not covering:
        first, last = min(r[0] for r in ranges.values()), max(r[1] for r in ranges.values())
        raise LongwatchError("D002", start=derive.utc_text(start), end=derive.utc_text(end),
                             path=package_id, clip_start=derive.utc_text(first), clip_end=derive.utc_text(last))
    files: list[derive.DerivedFile] = []
    copied, cuts, commands = [], [], []
    media.require("ffmpeg")
    # The probe of a cut (its technical metadata) runs while derive() copies and digests it into the package.
    with derive.scratch_dir(archive, "window-") as scratch_name, ThreadPoolExecutor(max_workers=1) as pool:
        scratch = Path(scratch_name)
        for clip in sorted(covering, key=lambda c: ranges[c.id][0]):
            clip_start, clip_end = ranges[clip.id]
            source_ref = f"{row.id}/{clip.relpath}"
            if start <= clip_start and clip_end <= end:
                files.append(derive.DerivedFile(Path(clip.relpath).name, [source_ref], stored=(row.id, clip.relpath),
                                                start=clip_start, end=clip_end))
                copied.append(clip.relpath)
                continue
            source = derive.local_media(archive, row, clip, scratch)
            offset = max(0.0, (start - clip_start).total_seconds())
            stop = min(clip_end, end)
            out = scratch / f"{Path(clip.relpath).stem}_{int(offset)}s{Path(clip.relpath).suffix}"
            cmd, keyframe = cut_from_keyframe(source, out, offset, (stop - clip_start).total_seconds() - offset,
                                              has_video=bool(clip.width))
            actual_offset = keyframe if keyframe is not None else keyframe_before(source, offset)
            commands.append(" ".join("SOURCE" if a == str(source) else "OUT" if a == str(out) else a for a in cmd))
            cut_start = clip_start + timedelta(seconds=actual_offset)
            # no end given: derive() sets it from the probe's duration, once the probe is in
            files.append(derive.DerivedFile(out.name, [source_ref], local=out, start=cut_start,
                                            probe=pool.submit(media.probe, out, exif=False),
                                            mime_type=clip.mime_type))
            cuts.append(clip.relpath)
        parameters = {"requested_start": derive.utc_text(start), "requested_end": derive.utc_text(end),
                      "copied_whole": copied, "stream_copy_cuts": cuts, "commands": commands}
        kind = "Window" if action == "window" else action.replace("-", " ").capitalize()
        # the title is read by people: UTC to the second (the exact range is in bag-info and PREMIS)
        title = (f"{kind} {clock.iso_z(start.replace(microsecond=0))} to {clock.iso_z(end.replace(microsecond=0))}"
                 f" of {row.title or row.id}")
        derived = derive.derive(archive, [row], files, action=action, event_type="creation",
                                tool=derive.ffmpeg_agent(), parameters=parameters, cause=cause, title=title,
                                requested=(start, end), progress=progress, package_id=package_id_out)
    actual = (min(f.start for f in files if f.start), max(f.end for f in files if f.end))
    return WindowResult(derived, (start, end), actual, copied, cuts)
