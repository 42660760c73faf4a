"""Dahua DHAV (``.dav``): the channel and the recorder's clock read from the frame headers.

ffmpeg's ``dhav`` demuxer plays these files (and so decides the validation
event and makes the browser's access copy by stream copy), but it does not
report the channel, and its duration comes from whole-second dates. Reading
the frame headers here gives both: the channel byte, and the time of the
first and last video frame the way ffmpeg times packets (the date word's
second, plus the record's millisecond counter within that second). Only
headers are read (each record says its own length), so a file of any size
costs a few kilobytes of reading and memory stays flat.

The layout is ffmpeg's reading of the format (libavformat/dhav.c), proven
in tests with synthetic files built to that layout (tests/dhav_fixture.py):
no real recorder's file was available, so fields ffmpeg does not read are
not interpreted here either. Dates are the recorder's local wall clock:
the caller applies the camera's time zone and clock offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

MAGIC = b"DHAV"
VIDEO_TYPES = (0xFD, 0xFC)  # key frame, other frame
AUDIO, AUX = 0xF0, 0xF1
KNOWN_TYPES = (*VIDEO_TYPES, AUDIO, AUX)
HEADER = 24
TRAILER = 8
CODECS = {0x1: "mpeg4", 0x2: "h264", 0x3: "mjpeg", 0x4: "h264", 0x8: "h264", 0xC: "hevc"}
RESYNC_CHUNK = 1 << 20
MAX_RESYNC = 64 << 20  # give up looking for the next frame after this much junk


@dataclass
class DhavInfo:
    """What the frame headers say; ``start``/``end`` are the recorder's naive local wall clock."""

    channel: int
    start: datetime
    end: datetime
    video_frames: int
    key_frames: int
    frame_rate: int
    codec: str
    width: int
    height: int
    truncated: bool  # the last record is cut short (an interrupted copy or export)
    resynced: int  # bytes skipped between records that were not DHAV (damage)

    def to_dict(self) -> dict[str, object]:
        return {"channel": self.channel, "first_frame_local": self.start.isoformat(timespec="milliseconds"),
                "end_local": self.end.isoformat(timespec="milliseconds"), "video_frames": self.video_frames,
                "key_frames": self.key_frames, "frame_rate": self.frame_rate, "codec": self.codec,
                "width": self.width, "height": self.height, "truncated": self.truncated,
                "skipped_bytes": self.resynced}


def unpack_date(word: int) -> datetime | None:
    """The DHAV date word as a naive datetime; None when the fields are no calendar date."""
    try:
        return datetime((word >> 26 & 0x3F) + 2000, word >> 22 & 0x0F, word >> 17 & 0x1F,
                        word >> 12 & 0x1F, word >> 6 & 0x3F, word & 0x3F)
    except ValueError:
        return None


def is_dhav(head: bytes) -> bool:
    """The first bytes of a file start a DHAV frame record (ffmpeg's probe asks the same)."""
    return len(head) >= 5 and head[:4] == MAGIC and head[4] in KNOWN_TYPES


def _resync(fh: BinaryIO, offset: int, size: int) -> int | None:
    """The offset of the next plausible record header after ``offset``, as ffmpeg resynchronises."""
    pos = offset + 1
    while pos < size and pos - offset < MAX_RESYNC:
        fh.seek(pos)
        chunk = fh.read(RESYNC_CHUNK + 4)
        at = chunk.find(MAGIC)
        while at >= 0 and at + 4 < len(chunk) and chunk[at + 4] not in KNOWN_TYPES:
            at = chunk.find(MAGIC, at + 1)
        if at >= 0 and at + 4 < len(chunk):
            return pos + at
        pos += RESYNC_CHUNK
    return None


def read(path: Path) -> DhavInfo | None:
    """The channel and the first/last video frame times, or None when no video record can be read."""
    size = path.stat().st_size
    channel = -1
    first: int | None = None
    pts = last_pts = 0
    last_second: int | None = None
    last_counter = 0
    frames = keys = rate = width = height = 0
    codec = ""
    truncated = False
    skipped = 0
    with open(path, "rb") as fh:
        if not is_dhav(fh.read(5)):
            return None
        offset = 0
        while offset + HEADER <= size:
            fh.seek(offset)
            head = fh.read(HEADER)
            kind = head[4]
            if head[:4] != MAGIC or kind not in KNOWN_TYPES:
                found = _resync(fh, offset, size)
                if found is None:
                    break
                skipped += found - offset
                offset = found
                continue
            _, _, chan, _, _number, length, date = struct.unpack_from("<BBBBIII", head, 4)
            if length < HEADER + TRAILER:
                found = _resync(fh, offset, size)
                if found is None:
                    break
                skipped += found - offset
                offset = found
                continue
            if offset + length > size:
                truncated = True
                break
            if kind in VIDEO_TYPES:
                counter, ext_length = struct.unpack_from("<HB", head, 20)
                ext = fh.read(min(ext_length, length - HEADER))
                rate, codec, width, height = _extensions(ext, rate, codec, width, height)
                when = unpack_date(date)
                if when is not None:
                    second = int(when.replace(tzinfo=UTC).timestamp())
                    if second == last_second:
                        step = (counter - last_counter) % 0x10000
                        pts += step
                    else:
                        pts = second * 1000
                    last_second, last_counter = second, counter
                    if first is None:
                        first, channel = pts, chan
                    last_pts = pts
                    frames += 1
                    keys += kind == 0xFD
            offset += length
        if size - offset > 0 and not truncated and offset + HEADER > size:
            truncated = True  # a few bytes of a record that never finished
    if first is None:
        return None
    interval = 1000 // rate if rate else 0
    return DhavInfo(channel=channel, start=_naive(first), end=_naive(last_pts + interval), video_frames=frames,
                    key_frames=keys, frame_rate=rate, codec=codec, width=width, height=height,
                    truncated=truncated, resynced=skipped)


def _naive(millis: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=millis)


def _extensions(ext: bytes, rate: int, codec: str, width: int, height: int) -> tuple[int, str, int, int]:
    """Frame rate, codec and picture size from the extension fields ffmpeg reads; others are skipped."""
    i = 0
    while i < len(ext):
        tag = ext[i]
        if tag == 0x80 and i + 4 <= len(ext):
            width, height = ext[i + 2] * 8, ext[i + 3] * 8
            i += 4
        elif tag == 0x81 and i + 4 <= len(ext):
            codec, rate = CODECS.get(ext[i + 2], f"0x{ext[i + 2]:02x}"), ext[i + 3]
            i += 4
        elif tag == 0x82 and i + 8 <= len(ext):
            width, height = struct.unpack_from("<HH", ext, i + 4)
            i += 8
        elif tag in (0x83, 0x84, 0x85, 0x8B, 0x94, 0x96, 0xA0, 0xB2, 0xB4):
            i += 4
        elif tag in (0x88, 0x8C, 0x91, 0x92, 0x93, 0x95, 0x9A, 0x9B, 0xB3):
            i += 8
        else:
            break  # unknown: ffmpeg skips the rest too
    return rate, codec, width, height
