"""Event windows: a time range over stored clips becomes a derived package, never a re-encode.

A clip that lies wholly inside the window is copied bit for bit (the same
digests as in the source manifest, so provenance is plain). A clip only
partly inside is cut by stream copy (``ffmpeg -c copy``): no decoding, no
re-encoding. A stream-copy cut can only start on a keyframe, so the cut
starts at the last keyframe at or before the requested start; the package
records both the requested and the actual range. Overlapping windows merge
into one (:func:`merge_ranges`) before anything is written.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from longwatch.core import derive, media
from longwatch.core.archive import Archive
from longwatch.core.catalog import Package
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
        window = f"{max(0.0, offset - back):.3f}%{offset + 0.001:.3f}"
        cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", window,
               "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", str(path)]
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
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{start:.3f}", "-i", str(source),
           "-t", f"{duration:.3f}", "-map", "0", "-c", "copy", "-avoid_negative_ts", "make_zero", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise LongwatchError("D010", action="cutting a window", detail=result.stderr.strip()[-300:])
    return cmd


def window(
    archive: Archive,
    package_id: str,
    start: datetime,
    end: datetime,
    cause: derive.Cause,
    progress: Callable[[int], None] | None = None,
) -> WindowResult:
    """Preserve ``start``..``end`` of a stored package as a new derived package."""
    if end <= start:
        raise LongwatchError("D007", start=derive.utc_text(start), end=derive.utc_text(end))
    row = archive.catalog.get(package_id)
    if row is None:
        raise LongwatchError("I008", package_id=package_id)
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
    with derive.scratch_dir(archive, "window-") as scratch_name:
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
            with ThreadPoolExecutor(max_workers=1) as pool:  # the keyframe lookup runs beside the cut
                keyframe = pool.submit(keyframe_before, source, offset)
                cmd = cut(source, out, offset, (stop - clip_start).total_seconds() - offset)
                actual_offset = keyframe.result()
            commands.append(" ".join("SOURCE" if a == str(source) else "OUT" if a == str(out) else a for a in cmd))
            probe = media.probe(out, exif=False)
            cut_start = clip_start + timedelta(seconds=actual_offset)
            files.append(derive.DerivedFile(out.name, [source_ref], local=out, start=cut_start,
                                            end=cut_start + timedelta(seconds=probe.duration or 0.0),
                                            probe=probe, mime_type=clip.mime_type))
            cuts.append(clip.relpath)
        parameters = {"requested_start": derive.utc_text(start), "requested_end": derive.utc_text(end),
                      "copied_whole": copied, "stream_copy_cuts": cuts, "commands": commands}
        title = f"Window {derive.utc_text(start)} to {derive.utc_text(end)} of {row.title or row.id}"
        derived = derive.derive(archive, [row], files, action="window", event_type="creation",
                                tool=derive.ffmpeg_agent(), parameters=parameters, cause=cause, title=title,
                                requested=(start, end), progress=progress)
    actual = (min(f.start for f in files if f.start), max(f.end for f in files if f.end))
    return WindowResult(derived, (start, end), actual, copied, cuts)
