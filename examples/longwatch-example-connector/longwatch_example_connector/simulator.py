"""Makes an example NVR export for tests: real H.264 clips from ffmpeg and an index.json."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from longwatch.core.media.probe import make_test_clip

START = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
CLOCK_OFFSET = timedelta(seconds=-95)  # this NVR's clock is 95 s slow


def make_export(folder: Path, password: str = "nvr-pass-1", clips: int = 3) -> Path:  # noqa: S107
    folder.mkdir(parents=True, exist_ok=True)
    salt = os.urandom(8)
    entries = []
    for seq in range(1, clips + 1):
        true_start = START + timedelta(seconds=10 * seq)
        name = f"cam{seq % 2 + 1}-{seq:04d}.mp4"
        make_test_clip(folder / name, seconds=1, label=f"nvr {seq}", start=true_start)
        camera_start = true_start + CLOCK_OFFSET
        entries.append({"seq": seq, "camera": f"nvr-cam{seq % 2 + 1}", "file": name,
                        "camera_start": camera_start.isoformat(),
                        "camera_end": (camera_start + timedelta(seconds=1)).isoformat()})
    (folder / entries[0]["file"]).with_name(entries[0]["file"] + ".sig").write_bytes(b"NVR-SIGNATURE-v1")
    gap_start = START + timedelta(seconds=12) + CLOCK_OFFSET
    index = {"username": "admin", "salt": salt.hex(),
             "password_sha256": hashlib.sha256(salt + password.encode()).hexdigest(),
             "clock_offset_seconds": CLOCK_OFFSET.total_seconds(),
             "cameras": [{"id": "nvr-cam1", "name": "Gate"}, {"id": "nvr-cam2", "name": "Lobby"}],
             "clips": entries,
             "gaps": [{"camera": "nvr-cam1", "camera_start": gap_start.isoformat(),
                       "camera_end": (gap_start + timedelta(seconds=5)).isoformat(), "reason": "power cut"}]}
    (folder / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    return folder
