"""Vendor exports: NVR export folders whose file names carry camera and time.

Supported, because the tests prove them with fixtures made here by ffmpeg:

* ``hikvision``: ``<ip>_<channel>_<YYYYmmddHHMMSS>[mmm].<ext>`` (web-client
  download) and ``ch<NN>_<YYYYmmddHHMMSS>[_<YYYYmmddHHMMSS>].<ext>``;
* ``dahua``: ``<device>_ch<N>_<main|sub>_<YYYYmmddHHMMSS>_<YYYYmmddHHMMSS>.<ext>``;
* Dahua DHAV content (``.dav``, any name): channel and start/end from the
  frame headers (plugins/connectors/dhav.py), which win over the name's
  whole-second times unless they disagree with the name by more than
  ``dhav_clock_tolerance_seconds``: Dahua recorders often fall back to
  2000-01-01 after a power loss, and headers from a reset clock would make
  fresh footage look long due for disposal, so the name (written by the
  export, from the recorder's index) wins then, with warning N017. The bytes are stored untouched; whether ffprobe can
  read them decides the validation event, never whether they are kept; the
  web plays them through an MP4 access copy made by stream copy.

Times in names and in DHAV headers are the recorder's local clock: set
``timezone`` and, when the recorder's clock is wrong, ``clock_offset_seconds``.
Files are marked in the watch's own state by default, so the export folder
(often a read-only share) is never changed. ONVIF export files are not
recognised as such (docs/connectors.md says why).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.plugins.connectors import dhav
from longwatch.plugins.connectors.base import CameraConnector, Option
from longwatch.plugins.connectors.dropfolder import DropFolderConnector

CONVENTIONS: dict[str, list[re.Pattern[str]]] = {
    "hikvision": [
        re.compile(r"^(?P<device>\d{1,3}(?:\.\d{1,3}){3})_(?P<channel>\d{1,3})_(?P<start>\d{14})(?P<ms>\d{3})?\.\w+$"),
        re.compile(r"^ch(?P<channel>\d{1,3})_(?P<start>\d{14})(?:_(?P<end>\d{14}))?\.\w+$"),
    ],
    "dahua": [
        re.compile(r"^(?P<device>[A-Za-z0-9.-]{1,40})_ch(?P<channel>\d{1,3})_(?P<stream>main|sub)_"
                   r"(?P<start>\d{14})_(?P<end>\d{14})\.\w+$"),
    ],
}


class VendorExportConnector(DropFolderConnector):
    """Hikvision- and Dahua-style export folders; originals are never moved unless asked."""

    NAME = "vendor-export"
    DESCRIPTION = "NVR export folders with Hikvision- or Dahua-style file names"
    OPTIONS: ClassVar[dict[str, Option]] = {
        **DropFolderConnector.OPTIONS,
        "convention": Option(str, default="auto", help="hikvision, dahua or auto"),
        "after": Option(str, default="mark"),
        "settle_seconds": Option(float, default=0.0),
        "dhav_clock_tolerance_seconds": Option(
            float, default=300.0, help="how far a .dav's frame times may stray from its name's before the name wins"),
    }

    def __init__(self, config: Any, state_dir: Path) -> None:
        super().__init__(config, state_dir)
        name = self.config["convention"]
        if name != "auto" and name not in CONVENTIONS:
            raise LongwatchError("N001", connector=self.NAME,
                                 detail=f"'convention' must be auto or one of {', '.join(CONVENTIONS)}")
        if not self.config["dhav_clock_tolerance_seconds"] >= 0:
            raise LongwatchError("N001", connector=self.NAME, detail="'dhav_clock_tolerance_seconds' must be 0 or more")
        self.conventions = list(CONVENTIONS) if name == "auto" else [name]

    def names_to_fields(self, path: Path) -> dict[str, Any]:
        fields = self._name_fields(path)
        if path.suffix.lower() == ".dav" and "dahua" in self.conventions:
            fields = self._dhav_fields(path, fields)
        return fields

    def _dhav_fields(self, path: Path, fields: dict[str, Any]) -> dict[str, Any]:
        """Frame headers give the channel and the recorder's clock to the millisecond; the name is kept too."""
        try:
            info = dhav.read(path)
        except OSError:
            info = None
        if info is None:
            return fields  # not DHAV (or no readable video record): the name's fields, ffprobe decides validation
        out = dict(fields)
        embedded: dict[str, Any] = {"format": "dhav", **info.to_dict()}
        for key in ("start", "end"):
            if key in fields:
                embedded[f"name_{key}"] = fields[key].isoformat()
        start, end = info.start.replace(tzinfo=self.zone), info.end.replace(tzinfo=self.zone)
        tolerance = self.config["dhav_clock_tolerance_seconds"]
        apart = abs((start - fields["start"]).total_seconds()) if "start" in fields else 0.0
        if apart > tolerance:
            # a reset recorder clock (2000-01-01 is common): the name's times stay, the headers' are kept as found
            warning = LongwatchError("N017", name=path.name, header_start=info.start.isoformat(sep=" "),
                                     name_start=fields["start"].replace(tzinfo=None).isoformat(sep=" "),
                                     apart=round(apart), tolerance=round(tolerance))
            embedded["clock"] = "name"
            out["warning"] = warning
        else:
            embedded["clock"] = "frames"
            out["start"], out["end"] = start, end
        out["vendor"] = "dahua"
        if "camera" not in out and not self.config["camera"]:
            out["camera"] = f"nvr-ch{info.channel:02d}"
        out["embedded"] = embedded
        if info.abandoned:
            out["partial"] = (f"damaged throughout: reading stopped after {info.resyncs} damaged stretches "
                              f"({info.resynced} bytes that are not DHAV), later frames are not counted")
        elif info.truncated or info.resynced:
            out["partial"] = "ends inside a DHAV frame record" if info.truncated else \
                f"{info.resynced} bytes between DHAV frame records are not DHAV"
        return out

    def _name_fields(self, path: Path) -> dict[str, Any]:
        for vendor in self.conventions:
            for pattern in CONVENTIONS[vendor]:
                match = pattern.match(path.name)
                if not match:
                    continue
                groups = match.groupdict()
                device = (groups.get("device") or "nvr").replace(".", "-")
                fields: dict[str, Any] = {
                    "camera": f"{device}-ch{int(groups['channel']):02d}",
                    "start": self.parse_name_time(groups["start"], "%Y%m%d%H%M%S"),
                    "vendor": vendor,
                }
                if groups.get("ms"):
                    fields["start"] += timedelta(milliseconds=int(groups["ms"]))
                if groups.get("end"):
                    fields["end"] = self.parse_name_time(groups["end"], "%Y%m%d%H%M%S")
                return fields
        return super().names_to_fields(path)


@hookimpl
def register_camera_connectors() -> list[type[CameraConnector]]:
    return [VendorExportConnector]
