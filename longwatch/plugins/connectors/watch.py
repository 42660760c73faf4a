"""Run a connector into the archive: stage, ingest, verify, then release the original.

The watch keeps its state (cursor, the clips it stored, pending or refused,
the gaps it recorded) in the catalog (:mod:`longwatch.plugins.connectors.state`),
saved after every stored clip, so that a watcher on any machine sharing the
database continues it, and only one process runs a watch at a time. The
connector's own folder (``<archive>/connectors/<watch name>/``: staging, the
recorder's segments, the gaps log) is this machine's work in progress only.

Order per clip, so that a crash at any point loses nothing and stores nothing twice:
1. skip a key the state already records as stored (only re-acknowledge it);
2. record the key as pending, stage the bytes (hard link when possible, else a
   streamed copy) beside a connector sidecar, and ingest; an I006 (same SHA-256
   already archived) after a crash means the package exists: its id is taken over;
3. verify the stored package in full;
4. record key -> package id and the cursor in the state;
5. only then ``acknowledge`` (the drop folder moves or marks the original).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from longwatch import __version__, clock
from longwatch.core.aip import verify as verify_mod
from longwatch.core.aip.package import safe_name
from longwatch.core.archive import Archive
from longwatch.core.catalog import Clip
from longwatch.core.preservation import gaps as gaps_mod
from longwatch.core.preservation import ingest as ingest_mod
from longwatch.core.preservation import publish as publish_mod
from longwatch.core.storage import copies as storage_copies
from longwatch.core.storage import policy as storage_policy
from longwatch.core.storage import replicate as storage_replicate
from longwatch.errors import LongwatchError
from longwatch.plugins.connectors.base import CameraConnector, ClipInfo, Gap, iso
from longwatch.plugins.connectors.state import WatchState

GAPS_NAME = "gaps.jsonl"


def state_dir_for(archive: Archive, watch_name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in watch_name) or "watch"
    return archive.root / "connectors" / safe


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Outcome:
    key: str
    name: str
    package_id: str = ""
    error: LongwatchError | None = None
    already: bool = False
    #: archived, but with something the operator should know (a segment that ends early)
    warning: LongwatchError | None = None


class Watch:
    """One connector feeding one archive; ``run_once`` is a full pass, ``run`` loops until stopped."""

    def __init__(self, archive: Archive, connector: CameraConnector,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 after_store: Callable[[ClipInfo, str], None] | None = None) -> None:
        self.archive = archive
        self.connector = connector
        self.dir = connector.state_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state = WatchState.load(archive.catalog, connector.device, self.dir)
        self.on_outcome = on_outcome or (lambda o: None)
        self._after_store = after_store  # tests crash here to prove restart safety
        self.stop = threading.Event()
        self._running = False

    # -- one pass -------------------------------------------------------------------------
    def run_once(self, flush: bool | None = None) -> list[Outcome]:
        """Archive what the connector offers.

        ``flush`` packs groups whose window is still open: by default only when the
        watch is not running the connector (a single pass, or the last pass after close).
        A single pass holds the watch for its duration (N018 while another process runs it).
        """
        if self._running:
            return self._pass(flush)
        self.state.claim()
        try:
            return self._pass(flush)
        finally:
            self.state.release()

    def _pass(self, flush: bool | None) -> list[Outcome]:
        if flush is None:
            flush = not self._running
        self._record_gaps()
        outcomes: list[Outcome] = []
        self.connector.problems.clear()
        blocked = False  # the cursor never passes a failed clip or a group still open
        group: list[ClipInfo] = []

        def emit(found: list[Outcome]) -> None:
            for outcome in found:
                outcomes.append(outcome)
                self.on_outcome(outcome)

        def pack(advance: bool) -> bool:
            found = self._store_clips(group, advance_cursor=advance)
            emit(found)
            group.clear()
            return any(o.error is not None for o in found)

        interrupted = False
        for clip in self.connector.list_clips(self.state.cursor):
            if self.stop.is_set() and not flush:
                interrupted = True  # the listing is incomplete: a trailing group may miss segments
                break
            if group and clip.group != group[0].group:
                blocked = pack(not blocked) or blocked  # a later group appeared: the earlier one is complete
            if clip.group:
                group.append(clip)
                continue
            # after a failure the cursor stays before the failed clip, so it is offered again;
            # the clips stored after it are recognised by their keys and not stored twice
            found = self._store_clips([clip], advance_cursor=not blocked)
            blocked = blocked or any(o.error is not None for o in found)
            emit(found)
        if group and not interrupted:
            window = group[0].group_range
            closed = flush or (window is not None
                               and clock.now() >= window[1] + self.connector.pack_grace())
            if closed or all(c.key in self.state.done or c.key in self.state.rejected for c in group):
                pack(not blocked)
        for name, error in self.connector.problems:
            emit([Outcome(key="", name=name, error=error)])
        self._record_gaps()
        return outcomes

    def run(self, interval: float = 2.0) -> None:
        """Until ``stop`` is set (SIGTERM): pass, sleep, pass; then close the connector and do a last pass.

        While another process runs the same watch (on this machine or another sharing the database)
        this one waits, as a standby, and starts the connector only once it holds the watch.
        """
        publish_mod.recover(self.archive)
        if not self._wait_for_claim(interval):
            return
        self.connector.open()
        self._running = True
        try:
            while not self.stop.is_set():
                try:
                    self.run_once()
                except LongwatchError as exc:  # a share unmounted for a while: report, retry next time
                    if exc.code.startswith(("A", "K", "N011", "N019")):
                        raise
                    self.on_outcome(Outcome(key="", name=self.connector.device, error=exc))
                self.stop.wait(interval)
        finally:
            self.connector.close()
            self._running = False
            self.stop.clear()
            try:
                self.run_once(flush=True)  # what the connector finished on close (the last segment, the open hour)
            except LongwatchError as exc:
                self.on_outcome(Outcome(key="", name=self.connector.device, error=exc))
            self.state.release()

    def _wait_for_claim(self, interval: float) -> bool:
        """Hold the watch, waiting while another process does (reported once); False when stopped meanwhile."""
        reported = False
        while True:
            try:
                self.state.claim()
                return True
            except LongwatchError as exc:
                if exc.code != "N018":
                    raise
                if not reported:
                    self.on_outcome(Outcome(key="", name=self.connector.device, error=exc))
                    reported = True
            if self.stop.wait(interval):
                return False

    def _one(self, clip: ClipInfo, advance_cursor: bool = True) -> Outcome:
        return self._store_clips([clip], advance_cursor)[0]

    def _store_clips(self, clips: list[ClipInfo], advance_cursor: bool = True) -> list[Outcome]:
        """Store ``clips`` as ONE package (one clip, or a camera-hour of segments); an outcome per clip."""
        outcomes = {clip.key: Outcome(clip.key, clip.name) for clip in clips}
        todo: list[ClipInfo] = []
        for clip in clips:
            outcome = outcomes[clip.key]
            if clip.key in self.state.done:
                outcome.package_id, outcome.already = self.state.done[clip.key], True
                self.connector.acknowledge(clip, outcome.package_id)
                continue
            if clip.key in self.state.rejected:
                outcome.already = True
                continue
            try:
                self.connector.check_clock(clip)
                if len(clips) > 1 and self._is_empty(clip):
                    self._reject_empty(clip)
            except LongwatchError as exc:
                outcome.error = exc
                continue
            todo.append(clip)
        if not todo:
            return list(outcomes.values())
        rest: list[ClipInfo] = []
        try:
            package_id = self._stored_before_crash(todo[0]) if todo[0].key in self.state.pending else None
            if package_id is not None and len(todo) > 1:
                # the hour may have grown since the crash (recording went on): only the segments
                # that package holds are taken over; the others get a package of their own
                held = self._held_by(package_id)
                rest = [c for c in todo if (c.start, c.size) not in held]
                todo = [c for c in todo if (c.start, c.size) in held]
            if package_id is None:
                self.state.pending.extend(c.key for c in todo if c.key not in self.state.pending)
                self.state.save()
                package_id = self._store(todo)
            self._verify(package_id)
        except LongwatchError as exc:
            for clip in todo:
                outcomes[clip.key].error = exc
            return list(outcomes.values())
        for clip in todo:
            self.state.done[clip.key] = package_id
            if clip.key in self.state.pending:
                self.state.pending.remove(clip.key)
        cursor = todo[-1].cursor
        if cursor and advance_cursor and not any(o.error for o in outcomes.values()):
            self.state.cursor = cursor
        self.state.save()
        for clip in todo:
            if self._after_store is not None:
                self._after_store(clip, package_id)
            self.connector.acknowledge(clip, package_id)
            outcome = outcomes[clip.key]
            outcome.package_id = package_id
            if clip.partial and len(clips) > 1:
                outcome.warning = LongwatchError("N013", camera=clip.camera, name=clip.name, package_id=package_id)
            elif clip.partial:
                outcome.warning = LongwatchError("N016", camera=clip.camera, name=clip.name, package_id=package_id,
                                                 detail=clip.metadata.get("partial_reason") or "cut short")
            elif clip.metadata.get("warning"):  # what the connector found while naming the clip (N017)
                found = clip.metadata["warning"]
                outcome.warning = LongwatchError(found["code"], **found["context"])
        shutil.rmtree(self._staging(todo), ignore_errors=True)
        if rest:
            for outcome in self._store_clips(rest, advance_cursor):
                outcomes[outcome.key] = outcome
        return list(outcomes.values())

    def _held_by(self, package_id: str) -> set[tuple[datetime | None, int | None]]:
        """(start, size) of every clip the catalog lists for a package."""
        row = self.archive.catalog.get(package_id)
        return {(c.start_utc, c.size_bytes) for c in row.clips} if row is not None else set()

    def _is_empty(self, clip: ClipInfo) -> bool:
        local = self.connector.local_path(clip)
        if local is not None:
            try:
                return local.stat().st_size == 0
            except OSError:
                return False
        return clip.size == 0

    def _reject_empty(self, clip: ClipInfo) -> None:
        """An empty segment holds no footage: its time becomes a gap; the file is left where it is."""
        error = LongwatchError("N012", camera=clip.camera, name=clip.name, start=iso(clip.start),
                               end=iso(clip.end))
        if clip.start is not None and clip.end is not None and clip.end > clip.start:
            self._note_gaps([Gap(clip.camera, clip.start, clip.end, "empty segment").to_dict()])
        self.state.rejected[clip.key] = "N012"
        self.state.save()
        raise error

    def _stored_before_crash(self, clip: ClipInfo) -> str | None:
        """The package of a clip whose ingest began before a crash: same SHA-256 and same start."""
        from sqlalchemy import select


        digest = hashlib.sha256()
        with self.connector.open_clip(clip) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        with self.archive.catalog.session() as s:
            for row in s.scalars(select(Clip).where(Clip.sha256 == digest.hexdigest())):
                if clip.start is None or row.start_utc is None or row.start_utc == clip.start:
                    return str(row.package_id)
        return None

    def _staging(self, clips: list[ClipInfo]) -> Path:
        name = clips[0].group if len(clips) > 1 and clips[0].group else clips[0].key
        return self.dir / "staging" / hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]

    def _store(self, clips: list[ClipInfo]) -> str:
        stage = self._staging(clips)
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        requests = [self._stage(clip, stage) for clip in clips]
        gaps = None
        if len(clips) > 1:  # the outages inside the package's window travel with it (technical.json)
            start, end = clips[0].group_range or (clips[0].start, clips[-1].end or clips[-1].start)
            gaps = [g for g in self.state.gaps
                    if start is not None and end is not None and g.get("camera") == clips[0].camera
                    and clock.parse_time(g["start"]) < end and clock.parse_time(g["end"]) > start]
        try:
            return ingest_mod.ingest_files(self.archive, requests, gaps=gaps)[0].package_id
        except LongwatchError as exc:
            if exc.code == "I006":  # stored before a crash: take it over, never a second copy
                return str(exc.context["package_id"])
            raise

    def _stage(self, clip: ClipInfo, stage: Path) -> ingest_mod.IngestRequest:
        # The staged name is the original one when the file system can hold it with ".json" added,
        # so ingest records it as PREMIS originalName; else a safe name (the original stays in the sidecar).
        plain = "/" not in clip.name and "\0" not in clip.name and clip.name not in ("", ".", "..") \
            and len(clip.name.encode("utf-8")) <= 240
        media = stage / (clip.name if plain else safe_name(clip.name, "clip.bin"))
        self._stage_bytes(clip, media)
        sidecar = self._sidecar(clip)
        write_atomic(stage / (media.name + ".json"),
                     json.dumps(sidecar, ensure_ascii=False, indent=1, default=str).encode("utf-8"))
        camera = next((c for c in self._cameras() if c.id == clip.camera), None)
        # A name's end is whole seconds: ffprobe's duration is better, except for segments (their exact
        # windows) and ends the connector read inside the file (DHAV frame times; ffmpeg's dhav duration
        # counts whole seconds only).
        exact_end = bool(clip.group) or "embedded" in clip.metadata
        return ingest_mod.IngestRequest(
            path=media, camera=clip.camera, start=clip.start, end=clip.end if exact_end else None,
            zone=str(clip.metadata.get("zone") or (camera.zone if camera else "")),
            location_name=str(clip.metadata.get("location_name") or (camera.location_name if camera else "")),
            latitude=camera.latitude if camera else None, longitude=camera.longitude if camera else None,
            title=str(clip.metadata.get("title") or ""), description=str(clip.metadata.get("description") or ""),
            allow_duplicate=clip.allow_duplicate)

    def _cameras(self) -> list[Any]:
        if not hasattr(self, "_camera_list"):
            try:
                self._camera_list = self.connector.discover()
            except LongwatchError:
                self._camera_list = []
        return self._camera_list

    def _stage_bytes(self, clip: ClipInfo, target: Path) -> None:
        local = self.connector.local_path(clip)
        free = shutil.disk_usage(target.parent).free
        if local is not None:
            try:
                os.link(local, target, follow_symlinks=False)  # a link stays a link: ingest refuses it
                return
            except OSError:
                pass
        if clip.size is not None and free < clip.size + (16 << 20):
            raise LongwatchError("N008", path=target.parent, detail=f"{free} bytes free, {clip.size} needed")
        try:
            with self.connector.open_clip(clip) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except OSError as exc:
            target.unlink(missing_ok=True)
            code = "N008" if getattr(exc, "errno", None) == 28 else "N002"
            if code == "N008":
                raise LongwatchError("N008", path=target.parent, detail=str(exc)) from exc
            raise LongwatchError("N002", device=self.connector.device, detail=str(exc)) from exc

    def _sidecar(self, clip: ClipInfo) -> dict[str, Any]:
        """What the connector knows, kept in the package (data/sidecar/) as evidence of provenance."""
        sidecars = {}
        for name, data in self.connector.sidecars(clip).items():
            entry: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            try:
                entry["text"] = data.decode("utf-8")
            except UnicodeDecodeError:
                import base64

                entry["base64"] = base64.b64encode(data).decode("ascii")
            sidecars[name] = entry
        signature = self.connector.native_signature(clip)
        body: dict[str, Any] = {
            "camera": clip.camera,
            "start": iso(clip.start),
            "end": iso(clip.end),
            "connector": {
                "name": self.connector.NAME, "watch": self.connector.device, "longwatch": __version__,
                "key": clip.key, "original_name": clip.name,
                "clock_offset_seconds": clip.clock_offset.total_seconds(),
                "camera_clock_start": iso(clip.start + clip.clock_offset) if clip.start else "",
                "partial": clip.partial, "received": iso(clock.now()),
                "metadata": clip.metadata, "original_sidecars": sidecars,
            },
        }
        if signature is not None:
            import base64

            body["connector"]["native_signature"] = base64.b64encode(signature).decode("ascii")
        return body

    def _verify(self, package_id: str) -> None:
        """The stored package verifies in full AND has every copy its policy asks for, or the original stays.

        A drop folder is often the only other copy of the footage: releasing it
        while the archive holds one copy of a two-copy policy would leave the
        evidence on a single disk. A failed replica is retried here at every pass.
        """
        storage = self.archive.storage()
        report = verify_mod.verify_package(verify_mod.source_for(storage, package_id),
                                           trusted=self.archive.trusted)
        if not report.ok:
            raise LongwatchError("N010", package_id=package_id,
                                 detail="; ".join(p.render(translate=False) for p in report.problems[:3]))
        # the policy of the package's own retention class (evidence may ask for more copies than the default)
        if storage_replicate.policy_met(self.archive, package_id):
            return
        detail = "replicas missing"
        try:
            storage_replicate.replicate(self.archive, package_id)
        except LongwatchError as exc:
            detail = exc.render(translate=False)
        if not storage_replicate.policy_met(self.archive, package_id):
            good = [c for c in storage_copies.copies_of(self.archive, package_id) if c.status == "ok"]
            raise LongwatchError("N015", package_id=package_id, have=len(good),
                                 wanted=storage_policy.policy_of(self.archive, package_id).copies,
                                 detail=detail)

    def _record_gaps(self) -> None:
        self._note_gaps([g.to_dict() for g in self.connector.gaps()])

    def _note_gaps(self, found: list[dict[str, str]]) -> None:
        """New gaps go to the custody ledger and the catalog (searchable), then to the watch's own files."""
        known = {json.dumps(g, sort_keys=True) for g in self.state.gaps}
        new = [g for g in found if json.dumps(g, sort_keys=True) not in known]
        if not new:
            return
        for gap in new:
            gaps_mod.record(self.archive, gap["camera"], clock.parse_time(gap["start"]),
                            clock.parse_time(gap["end"]), gap.get("reason", ""),
                            source=str(self.connector.config.get("name") or self.connector.NAME))
        with open(self.dir / GAPS_NAME, "a", encoding="utf-8") as fh:
            for gap in new:
                fh.write(json.dumps(gap) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.state.gaps.extend(new)
        self.state.save()
