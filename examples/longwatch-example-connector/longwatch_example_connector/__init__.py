"""example-nvr: a camera connector as a third party writes one (entry point group ``longwatch``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from longwatch import Camera, CameraConnector, ClipInfo, Gap, LongwatchError, Option, hookimpl

__version__ = "0.1.0"


class ExampleNvrConnector(CameraConnector):
    """Reads an example NVR's export: ``index.json`` plus clip files, with a password."""

    NAME = "example-nvr"
    DESCRIPTION = "example third-party connector (NVR export with index.json)"
    OPTIONS: ClassVar[dict[str, Option]] = {
        "path": Option(str, required=True, help="the NVR export folder"),
        "username": Option(str, default="admin"),
        "password": Option(str, required=True, secret=True),
        "max_clock_skew_hours": Option(float, default=24.0),
    }

    def _index(self) -> dict[str, Any]:
        folder = Path(self.config["path"])
        try:
            index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            detail = f"no readable index.json ({exc.__class__.__name__})"
            raise LongwatchError("N002", device=self.device, detail=detail) from None
        salt = bytes.fromhex(index["salt"])
        given = hashlib.sha256(salt + self.config["password"].reveal().encode()).hexdigest()
        if self.config["username"] != index["username"] or not hmac.compare_digest(given, index["password_sha256"]):
            raise LongwatchError("N003", device=self.device, user=self.config["username"])
        return index

    def _offset(self, index: dict[str, Any]) -> timedelta:
        return timedelta(seconds=float(index.get("clock_offset_seconds", 0)))

    def discover(self) -> list[Camera]:
        index = self._index()
        return [Camera(id=c["id"], name=c.get("name", ""), zone=c.get("zone", ""), clock_offset=self._offset(index))
                for c in index["cameras"]]

    def list_clips(self, cursor: str | None) -> Iterator[ClipInfo]:
        index = self._index()
        offset = self._offset(index)
        after = int(cursor) if cursor else 0
        for clip in sorted(index["clips"], key=lambda c: c["seq"]):
            if clip["seq"] <= after:
                continue
            # the index holds the recorder's clock: true UTC = camera time - offset
            start = datetime.fromisoformat(clip["camera_start"]) - offset
            end = datetime.fromisoformat(clip["camera_end"]) - offset
            yield ClipInfo(key=f"seq-{clip['seq']}", camera=clip["camera"], name=clip["file"], start=start, end=end,
                           clock_offset=offset, size=(Path(self.config["path"]) / clip["file"]).stat().st_size,
                           cursor=str(clip["seq"]), metadata={"seq": clip["seq"]})

    def open_clip(self, clip: ClipInfo) -> BinaryIO:
        return open(Path(self.config["path"]) / clip.name, "rb")

    def native_signature(self, clip: ClipInfo) -> bytes | None:
        sig = Path(self.config["path"]) / (clip.name + ".sig")
        return sig.read_bytes() if sig.exists() else None

    def gaps(self) -> list[Gap]:
        index = self._index()
        offset = self._offset(index)
        return [Gap(g["camera"], datetime.fromisoformat(g["camera_start"]) - offset,
                    datetime.fromisoformat(g["camera_end"]) - offset, g["reason"]) for g in index.get("gaps", [])]


@hookimpl
def register_camera_connectors() -> list[type[CameraConnector]]:
    return [ExampleNvrConnector]
