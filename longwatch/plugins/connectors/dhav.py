"""Dahua DHAV (``.dav``): the channel and the recorder's clock read from the frame headers.

ffmpeg's ``dhav`` demuxer plays these files (and so decides the validation
event and makes the browser's access copy by stream copy), but it does not
report the channel, and its duration comes from whole-second dates. Reading
the frame headers here gives both: the channel byte, and the times of the
earliest and latest video frame the way ffmpeg times packets (the date
word's second, plus the record's millisecond counter within that second).
Every record's header is read (each record says its own length, so the
frames between are skipped, though the disk's read-ahead may still fetch
them): the reading grows with the number of records, memory stays flat.

Damage is resynchronised as ffmpeg does (the next ``DHAV`` plus a known
frame type), but by scanning forward inside a buffer already read, so each
byte of junk is read once, however many bogus records it holds; and a file
that is damaged everywhere stops being read after MAX_SKIPPED bytes of junk
or MAX_RESYNCS resynchronisations, so a hostile or shredded file cannot
stall an ingest. Both outcomes mark the file partial; it is kept whole.

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
from typing import Protocol

MAGIC = b"DHAV"
VIDEO_TYPES = (0xFD, 0xFC)  # key frame, other frame
AUDIO, AUX = 0xF0, 0xF1
KNOWN_TYPES = (*VIDEO_TYPES, AUDIO, AUX)
HEADER = 24
TRAILER = 8
CODECS = {0x1: "mpeg4", 0x2: "h264", 0x3: "mjpeg", 0x4: "h264", 0x8: "h264", 0xC: "hevc"}
HEADER_CHUNK = 4096  # what one read fetches around a record header (as a buffered file would)
RESYNC_CHUNK = 1 << 20  # what one read fetches while scanning junk for the next record
MAX_SKIPPED = 64 << 20  # stop reading a file after this much junk in all ...
MAX_RESYNCS = 4096  # ... or after this many damaged stretches


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
    resyncs: int = 0  # damaged stretches skipped
    abandoned: bool = False  # reading stopped at MAX_SKIPPED or MAX_RESYNCS: later frames are not counted

    def to_dict(self) -> dict[str, object]:
        return {"channel": self.channel, "first_frame_local": self.start.isoformat(timespec="milliseconds"),
                "end_local": self.end.isoformat(timespec="milliseconds"), "video_frames": self.video_frames,
                "key_frames": self.key_frames, "frame_rate": self.frame_rate, "codec": self.codec,
                "width": self.width, "height": self.height, "truncated": self.truncated,
                "skipped_bytes": self.resynced, "resyncs": self.resyncs, "abandoned": self.abandoned}


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


class Seekable(Protocol):
    """What the reader needs of a file: an unbuffered one, so every read is a real one."""

    def read(self, size: int = -1, /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class _Window:
    """A read buffer over the file: header reads and junk scans are served from it while they fit.

    Without it, resynchronising after a bogus record re-read a whole chunk to
    advance a few bytes, which made a file of tiny bogus records quadratic.
    """

    def __init__(self, fh: Seekable, size: int) -> None:
        self.fh, self.size = fh, size
        self.base, self.buf = 0, b""

    def get(self, offset: int, length: int, chunk: int = HEADER_CHUNK) -> bytes:
        """``length`` bytes at ``offset`` (fewer at the end of the file), reading ``chunk`` bytes when not buffered."""
        if not (self.base <= offset and offset + length <= self.base + len(self.buf)):
            self.fh.seek(offset)
            self.buf, self.base = self.fh.read(max(chunk, length)) or b"", offset
        return self.buf[offset - self.base:offset - self.base + length]

    def next_record(self, offset: int, budget: int) -> int | None:
        """The offset of the next plausible record header after ``offset``, as ffmpeg resynchronises.

        The scan continues inside the buffer and refills it only when it is
        used up, so every byte of junk is read once; None when no header
        starts within ``budget`` bytes (or before the end of the file).
        """
        pos = offset + 1
        while pos + 5 <= self.size and pos - offset <= budget:
            if not (self.base <= pos and pos + 5 <= self.base + len(self.buf)):
                self.get(pos, 5, RESYNC_CHUNK)
                if len(self.buf) < 5:
                    return None
            buf, at = self.buf, self.buf.find(MAGIC, pos - self.base)
            while at >= 0 and at + 4 < len(buf) and buf[at + 4] not in KNOWN_TYPES:
                at = buf.find(MAGIC, at + 1)
            if at >= 0 and at + 4 < len(buf):
                found = self.base + at
                return found if found - offset <= budget else None
            # keep the last 4 bytes: a magic may straddle the end of the buffer
            pos = self.base + (at if at >= 0 else max(len(buf) - 4, pos - self.base + 1))
            self.buf = b""
        return None


def read(path: Path) -> DhavInfo | None:
    """The channel and the earliest/latest video frame times, or None when no video record can be read."""
    size = path.stat().st_size
    with open(path, "rb", buffering=0) as fh:
        return read_from(fh, size)


def read_from(fh: Seekable, size: int) -> DhavInfo | None:
    """:func:`read` over an open unbuffered file of ``size`` bytes (tests count its reads)."""
    channel = -1
    low: int | None = None
    high = pts = 0
    last_second: int | None = None
    last_counter = 0
    frames = keys = rate = width = height = 0
    codec = ""
    truncated = abandoned = False
    skipped = resyncs = 0
    window = _Window(fh, size)
    if not is_dhav(window.get(0, 5)):
        return None
    offset = 0
    while offset + HEADER <= size:
        head = window.get(offset, HEADER)
        kind = head[4]
        length = struct.unpack_from("<I", head, 12)[0]
        if head[:4] != MAGIC or kind not in KNOWN_TYPES or length < HEADER + TRAILER:
            if skipped >= MAX_SKIPPED or resyncs >= MAX_RESYNCS:
                abandoned = True
                break
            budget = MAX_SKIPPED - skipped
            found = window.next_record(offset, budget)
            if found is None:
                abandoned = size - offset > budget
                skipped += min(size - offset, budget)
                break
            skipped += found - offset
            resyncs += 1
            offset = found
            continue
        _, _, chan, _, _number, length, date = struct.unpack_from("<BBBBIII", head, 4)
        if offset + length > size:
            truncated = True
            break
        if kind in VIDEO_TYPES:
            counter, ext_length = struct.unpack_from("<HB", head, 20)
            ext = window.get(offset + HEADER, min(ext_length, length - HEADER))
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
                if low is None:
                    low, high, channel = pts, pts, chan
                # frames need not come in time order (a clock set back mid-file): the window is min to max
                low, high = min(low, pts), max(high, pts)
                frames += 1
                keys += kind == 0xFD
        offset += length
    if size - offset > 0 and not truncated and not abandoned and offset + HEADER > size:
        truncated = True  # a few bytes of a record that never finished
    if low is None:
        return None
    interval = 1000 // rate if rate else 0
    return DhavInfo(channel=channel, start=_naive(low), end=_naive(high + interval), video_frames=frames,
                    key_frames=keys, frame_rate=rate, codec=codec, width=width, height=height,
                    truncated=truncated, resynced=skipped, resyncs=resyncs, abandoned=abandoned)


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
