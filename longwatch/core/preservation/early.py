"""The ingest command's copy-and-digest pass, started before the catalog, the ORM and the plugins load.

Why (issue 23): SHA-512 over the file on one core is the floor of an ingest,
and a command's start-up (SQLAlchemy, the catalog's mapped classes, the
signing libraries, the plugin manager: about half a second of CPU) used to
run before the first byte was read. The pass needs only the settings, the
storage writer, the source checks and hashlib, all light, so
``longwatch ingest FILE`` starts it first, on threads of its own, and
imports and opens the rest meanwhile, on the second core.

What must not change: nothing is published or recorded before the command
knows who asks. The pass writes only into the primary location's staging
area (a folder locked while its writer lives, swept after a crash, never
visible as a package). The pipeline (:func:`~longwatch.core.preservation.
ingest.ingest_files`) takes the pass over after its own checks, as if it had
copied the file itself; a command that refuses first (no account, a role
without the permission, a wrong key, a lost catalog) discards the pass, and
the staged bytes go with it.

Where it runs: on threads of this process, or, for the ``longwatch`` program
itself, in a process of its own (``own_process``), forked before anything
heavy is imported. Why a process: the threads of the pass take the GIL back
after every chunk, and the start-up beside them imports pure Python holding
it; and only a process of its own lets the kernel favour SHA-512, the floor,
over the start-up: :func:`preload` makes the start-up's imports on a thread of
lower priority (``START_UP_NICE``), which with the pass on threads of the same
process only made the digests wait for a GIL held by a thread the kernel had
set aside. The child writes into the staging file the parent opened (so the
writer knows it and fsyncs its folder at commit), fsyncs it before it tells the
digests, reports each chunk and its result over a pipe, and stops when the
command discards it (killed) or is gone (the pipe breaks).

The checks the pipeline makes before a byte is written (the location's
reserve and free space) are made here, at the same moment, before the
writer starts; when one fails, or anything else is unusual (no archive, an
adapter that is not light, a file that is not a regular one), no pass starts
and the pipeline does everything, raising its own coded errors as before.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from longwatch import config, registry
from longwatch.core.aip import package
from longwatch.core.aip.fixity import Digests, digest_stream
from longwatch.core.preservation.sources import check_source, open_source
from longwatch.errors import LongwatchError
from longwatch.storage_adapters.base import PackageWriter

log = logging.getLogger(__name__)

#: Free space kept beyond the file itself, for tag files and the file system's own needs.
HEADROOM = 64 << 20
#: The nice value of the thread that makes the start-up's imports beside a pass in its own process
#: (:func:`preload`): the kernel then gives the pass's threads the cores first, SHA-512 above all.
START_UP_NICE = 10


class _Discarded(Exception):
    """Stops the pass's reading thread: the command refused, or the pipeline copies the file itself."""


class EarlyPass:
    """One file being copied into a package's staging and digested, while the command starts up.

    A context manager for the pipeline: entering hands over the writer (the
    package's staging); leaving with an error stops the pass and removes what
    it staged. :meth:`discard` does the same for a command that never handed
    it over, and nothing once the pipeline has it.
    """

    def __init__(self, path: Path, checked: os.stat_result, follow_symlinks: bool, writer: PackageWriter,
                 media_path: str, location: str, own_process: bool = False) -> None:
        self.path = path
        self.location = location
        self.checked = checked
        self.follow_symlinks = follow_symlinks
        self.writer = writer
        self.media_path = media_path
        self.package_id = writer.package_id
        self._lock = threading.Lock()
        self._done = 0
        self._progress: Callable[[int], None] | None = None
        self._cancel = threading.Event()
        self._digests: Digests | None = None
        self._error: BaseException | None = None
        self._handed_over = False
        self._child: _Child | None = _Child(self) if own_process else None
        target = self._child.listen if self._child is not None else self._run
        self._thread = threading.Thread(target=target, name="longwatch-early-pass", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        """Whether the pass is still reading (its thread, or its process's pipe, is open)."""
        return self._thread.is_alive()

    @property
    def own_process(self) -> bool:
        """Whether the pass runs in a process of its own (see the module's docstring)."""
        return self._child is not None

    def _advance(self, n: int) -> None:
        if self._cancel.is_set():
            raise _Discarded
        with self._lock:
            self._done += n
            if self._progress is not None:
                self._progress(n)

    def _run(self) -> None:
        try:
            with open_source(self.path, self.checked, self.follow_symlinks) as fh, \
                    self.writer.open(self.media_path) as out:
                self._digests = digest_stream(fh, sinks=[out], progress=self._advance)
        except _Discarded:
            pass
        except OSError as exc:  # as the pipeline's own copy reports it
            self._error = LongwatchError("I007", path=self.path, detail=str(exc))
        except BaseException as exc:  # S001 (disk full) and the like, raised where the pipeline takes the result
            self._error = exc

    def fits(self, path: Path, checked: os.stat_result, follow_symlinks: bool, media_path: str,
             package_id: str) -> bool:
        """Whether this pass copies exactly the member the pipeline would copy (same file, name and options)."""
        return (path == self.path and (checked.st_dev, checked.st_ino) == (self.checked.st_dev, self.checked.st_ino)
                and follow_symlinks == self.follow_symlinks and media_path == self.media_path
                and package_id in ("", self.package_id))

    def attach(self, progress: Callable[[int], None] | None) -> None:
        """Report the bytes read so far, and from now on each chunk, to the pipeline's ``progress``."""
        if progress is None:
            return
        with self._lock:
            self._progress = progress
            if self._done:
                progress(self._done)

    def result(self) -> Digests:
        """Wait for the pass; its digests, or the coded error it met (raised as the pipeline's copy would)."""
        self._thread.join()
        if self._child is not None:
            self._child.finish()
        if self._error is not None:
            raise self._error
        if self._digests is None:
            raise LongwatchError("I007", path=self.path, detail="the copy was stopped")
        return self._digests

    def _stop(self) -> None:
        self._cancel.set()
        if self._child is not None:
            self._child.kill()
        self._thread.join()
        if self._child is not None:
            self._child.finish(discarded=True)

    def discard(self) -> None:
        """Stop the pass and remove its staging, unless the pipeline took it over (then it is the pipeline's)."""
        if self._handed_over:
            return
        self._handed_over = True
        self._stop()
        self.writer.abort()
        log.debug("early pass of %s discarded", self.path)

    def __enter__(self) -> PackageWriter:
        self._handed_over = True
        return self.writer

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None:
            self._stop()
            self.writer.abort()


class _Child:
    """The pass in a forked process: the parent opens the staging file, the child fills it and reports over a pipe.

    Lines on the pipe: the byte count of each chunk, then one line ``=`` and
    JSON: the digests, or the error met (a coded error with its context, or an
    OSError's text, which the parent raises as the pipeline's copy would: I007).
    """

    def __init__(self, owner: EarlyPass) -> None:
        self.owner = owner
        self.out = owner.writer.open(owner.media_path)  # in the parent: the writer fsyncs its folder at commit
        try:
            read_end, write_end = os.pipe()
            self.pid = os.fork()
        except OSError:
            self.out.close()
            raise
        if self.pid == 0:  # the child: never returns
            os.close(read_end)
            self._pass(write_end)
        os.close(write_end)
        self.pipe: IO[bytes] = os.fdopen(read_end, "rb")
        self.exited = False

    def _pass(self, pipe: int) -> None:
        status = 1
        with contextlib.suppress(BaseException):  # the parent is gone, or ended the pass: nothing to tell it
            report: dict[str, Any]
            try:
                with open_source(self.owner.path, self.owner.checked, self.owner.follow_symlinks) as fh:
                    digests = digest_stream(fh, sinks=[self.out], progress=lambda n: _send(pipe, b"%d\n" % n))
                self.out.close()  # fsynced here, before the parent learns the digests
                report = {"size": digests.size, "hexdigests": digests.hexdigests}
            except LongwatchError as exc:  # S001 (disk full) and the like
                report = {"code": exc.code, "context": {k: str(v) for k, v in exc.context.items()}}
            except OSError as exc:
                report = {"oserror": str(exc)}
            _send(pipe, b"=" + json.dumps(report).encode() + b"\n")
            status = 0
        os._exit(status)  # no atexit, no finalizers: they belong to the parent

    def listen(self) -> None:
        """The parent's thread: count each chunk (the command's progress) and take the child's result."""
        owner = self.owner
        try:
            for line in self.pipe:
                if not line.startswith(b"="):
                    owner._advance(int(line))
                    continue
                report = json.loads(line[1:])
                if "hexdigests" in report:
                    owner._digests = Digests(size=int(report["size"]), hexdigests=dict(report["hexdigests"]))
                elif "code" in report:
                    owner._error = LongwatchError(report["code"], **report["context"])
                else:
                    owner._error = LongwatchError("I007", path=owner.path, detail=str(report.get("oserror")))
        except _Discarded:
            pass
        except BaseException as exc:
            owner._error = exc

    def kill(self) -> None:
        if not self.exited:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # our own child, by its id

    def finish(self, discarded: bool = False) -> None:
        """Reap the child and close the parent's side of the staging file (the child fsynced it).

        ``discarded``: the staging goes anyway, so closing it may fail without hiding why the pass ended.
        """
        if not self.exited:
            self.exited = True
            os.waitpid(self.pid, 0)
            self.pipe.close()
            if discarded:
                with contextlib.suppress(OSError, LongwatchError):
                    self.out.close()
            else:
                self.out.close()


def _send(pipe: int, data: bytes) -> None:
    """One line to the parent (a pipe write this small is atomic); fails once the parent is gone, ending the pass."""
    os.write(pipe, data)


def preload(modules: Iterable[str], early: EarlyPass | None = None) -> None:
    """Import the start-up's modules on a thread of lower priority (``START_UP_NICE``), and wait for it.

    Beside a pass in its own process, the kernel then gives the pass's threads
    the cores first. Only that thread is reniced (Linux sets nice values per
    thread; an unprivileged process could not lower it again), so the command
    goes on at its own priority. Once ``early`` has ended, the thread stops
    between two modules and the command imports the rest itself, at its own
    priority: on a loaded machine the start-up would otherwise trail the pass
    on one core at low priority. A module that fails to import here is imported
    again by the command, which reports it.
    """

    def run() -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), START_UP_NICE)
        for name in modules:
            if early is not None and not early.running():
                return
            try:
                importlib.import_module(name)
            except Exception:  # the command imports it again and says why
                log.debug("preloading %s failed", name, exc_info=True)
                return
        if early is None or early.running():
            with contextlib.suppress(Exception):  # what the first query would do, at the same low priority
                importlib.import_module("sqlalchemy.orm").configure_mappers()

    thread = threading.Thread(target=run, name="longwatch-start-up")
    thread.start()
    thread.join()


def start(archive_dir: str | os.PathLike[str] | None, path: Path, follow_symlinks: bool = False,
          own_process: bool = False) -> EarlyPass | None:
    """Start copying and digesting ``path`` into the archive's primary location; None to leave it to the pipeline.

    ``own_process``: run the pass in a forked process (the ``longwatch``
    program, whose only thread is the main one); else on threads of this one.

    Only for a regular, non-empty file on a location whose adapter is light
    (``registry.LIGHT_STORAGE_ADAPTERS``) and that has room for it by the
    pipeline's own rules. Never raises: whatever is wrong, the pipeline finds
    it again and says so with its code.
    """
    try:
        settings = config.load(config.find_archive(archive_dir))
        spec = settings.locations.get(settings.primary_location)
        adapter = registry.light_storage_adapter(spec.adapter) if spec is not None else None
        if spec is None or adapter is None:
            return None
        checked = check_source(path, follow_symlinks)
        size = checked.st_size
        if size == 0:
            return None
        config.private_files()  # the staged copy is made private, as everything the archive writes
        storage = adapter(spec.name, spec.options, settings.root)
        reserve = int(storage.options.get("reserve_bytes", 0) or 0)
        free = storage.free_bytes()
        if free is not None and (free - size < max(reserve, 0) or free < size + HEADROOM):
            return None  # the pipeline refuses with H002 or S001 before writing, as it always did
        media_path = f"data/media/{package.safe_name(path.name)}"
        writer = storage.begin_package(str(uuid.uuid4()))
        try:
            early = EarlyPass(path, checked, follow_symlinks, writer, media_path, spec.name,
                              own_process=own_process and threading.active_count() == 1)
        except BaseException:
            writer.abort()
            raise
    except Exception:  # the pipeline reports it with its code; the pass just does not start
        log.debug("no early pass for %s", path, exc_info=True)
        return None
    log.debug("early pass of %s started into %s (package %s%s)", path, spec.name, writer.package_id,
              ", own process" if early.own_process else "")
    return early
