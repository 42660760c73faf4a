"""What may be archived: a regular file, checked, then opened so that nothing else is read.

Out of :mod:`~longwatch.core.preservation.ingest` so that the ingest command's
early pass (:mod:`~longwatch.core.preservation.early`) can check and open its
file before the catalog and the rest of the pipeline are imported (issue 23).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from longwatch.core.aip.fixity import open_for_reading
from longwatch.errors import LongwatchError

_KINDS = ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"),
          (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def check_source(path: Path, follow_symlinks: bool = False) -> os.stat_result:
    """The source's status, if it is a regular file that may be archived; a coded refusal otherwise.

    Why: an archive signs what it receives as evidence, so a link to
    ``/etc/passwd`` named ``x.mp4`` must not become a signed package, and a FIFO
    or a device must not hang the command or stream without end. Links are
    followed only when the operator says so.
    """
    try:
        st = os.stat(path) if follow_symlinks else os.lstat(path)
    except OSError as exc:
        raise LongwatchError("I002", path=path) from exc
    if stat.S_ISLNK(st.st_mode):
        raise LongwatchError("I051", path=path)
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "special file")
        raise LongwatchError("I052", path=path, kind=kind)
    return st


def open_source(path: Path, checked: os.stat_result, follow_symlinks: bool = False) -> BinaryIO:
    """Open the file that :func:`check_source` passed, and nothing else.

    ``O_NONBLOCK`` and ``O_NOFOLLOW`` make the open itself safe if the name
    was swapped for a FIFO or a link after the check; the descriptor must then
    still be the same regular file (device and inode), or nothing is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise LongwatchError("I051", path=path) from exc
        raise LongwatchError("I007", path=path, detail=str(exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (checked.st_dev, checked.st_ino):
            raise LongwatchError("I007", path=path, detail="the file was replaced while it was read")
        os.set_blocking(fd, True)
        return open_for_reading(fd)
    except BaseException:
        os.close(fd)
        raise
