"""A test-side writer of Dahua DHAV (``.dav``) files, for honest fixtures.

No Dahua recorder or sample file is available offline, and ffmpeg reads DHAV
but cannot write it. So this module wraps real H.264 access units, made by
ffmpeg's libx264 from a test pattern, into DHAV frame records laid out as
ffmpeg's ``dhav`` demuxer (libavformat/dhav.c) reads them. A fixture counts
only once ffmpeg's own demuxer reads it back with the expected frame count
and duration (tests/test_connector_dav.py); such files are synthetic, built
from the format as ffmpeg reads it, not files from a real recorder.

One frame record, all integers little-endian:

====== ====== ==========================================================
offset bytes  field
====== ====== ==========================================================
0      4      ``DHAV``
4      1      type: 0xFD video key frame, 0xFC other video frame
5      1      sub-type (0 here)
6      1      channel
7      1      frame sub-number (0 here)
8      4      frame number
12     4      record length, header to trailer inclusive
16     4      date: local wall clock, bits 0-5 second, 6-11 minute,
              12-16 hour, 17-21 day, 22-25 month, 26-31 year - 2000
20     2      milliseconds counter (wraps at 65536)
22     1      length of the extension fields that follow
23     1      checksum (not checked by ffmpeg; the byte sum of 0-22 here)
24     ext    0x80: (0, width / 8, height / 8); 0x81: (0, codec 2 = H.264, fps)
..     ..     the frame's H.264 NAL units, Annex-B start codes
end-8  4      ``dhav``
end-4  4      record length again (lets a reader walk backwards)
====== ====== ==========================================================
"""

from __future__ import annotations

import struct
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

KEY, OTHER = 0xFD, 0xFC
H264 = 0x02


def pack_date(when: datetime) -> int:
    """The DHAV date word of a naive local wall-clock time (whole seconds)."""
    return (when.second | when.minute << 6 | when.hour << 12 | when.day << 17 | when.month << 22
            | (when.year - 2000) << 26)


def h264_access_units(seconds: float, rate: int = 25, size: str = "160x120") -> list[bytes]:
    """Real H.264 frames from ffmpeg, one Annex-B access unit each (split at the inserted AUD NAL)."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(rate),
         "-bf", "0", "-x264-params", "repeat-headers=1", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", "-"],
        capture_output=True, check=True, timeout=120).stdout
    aud = b"\x00\x00\x00\x01\x09"
    parts = out.split(aud)
    assert parts[0] == b"", "the stream must start with an access unit delimiter"
    return [aud + p for p in parts[1:]]


def is_key(unit: bytes) -> bool:
    """An IDR slice (NAL type 5) after any start code."""
    return any((unit[i + 3] & 0x1F) == 5 for i in range(len(unit) - 3) if unit[i:i + 3] == b"\x00\x00\x01")


def frame_record(unit: bytes, number: int, when: datetime, millis: int, channel: int, rate: int,
                 width: int, height: int) -> bytes:
    kind = KEY if is_key(unit) else OTHER
    ext = bytes([0x80, 0, width // 8, height // 8, 0x81, 0, H264, rate]) if kind == KEY else b""
    length = 24 + len(ext) + len(unit) + 8
    head = b"DHAV" + struct.pack("<BBBBIII H B", kind, 0, channel, 0, number, length, pack_date(when),
                                 millis & 0xFFFF, len(ext))
    head += bytes([sum(head) & 0xFF])
    return head + ext + unit + b"dhav" + struct.pack("<I", length)


def write_dav(path: Path, start: datetime, seconds: float = 2.0, rate: int = 25, channel: int = 3,
              size: str = "160x120", units: list[bytes] | None = None) -> Path:
    """A .dav of ``seconds`` of test pattern starting at the naive local time ``start`` (whole seconds)."""
    width, height = (int(v) for v in size.split("x"))
    units = units if units is not None else h264_access_units(seconds, rate, size)
    base_ms = 40_000  # a free-running counter need not start at 0
    with open(path, "wb") as fh:
        for number, unit in enumerate(units):
            offset_ms = number * 1000 // rate
            when = start + timedelta(milliseconds=offset_ms)
            fh.write(frame_record(unit, number + 1, when.replace(microsecond=0), base_ms + offset_ms,
                                  channel, rate, width, height))
    return path
