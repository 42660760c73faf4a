"""Files at rest: what an archive writes is its owner's alone (0600/0700), whatever the shell's umask."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from conftest import LONGWATCH, error_codes, unique_copy


def _run(*args: str | Path, umask: int = 0o022, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LONGWATCH, *map(str, args)], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})}, preexec_fn=lambda: os.umask(umask))


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[path.relative_to(root).as_posix()] = stat.S_IMODE(path.stat().st_mode)
    return found


def _use(root: Path, small_clip: Path, tmp_path: Path, everything: bool = True, **kwargs) -> None:
    steps = [("init", root), ("-A", root, "ingest", "--camera", "cam-01",
                              unique_copy(small_clip, tmp_path / "in" / "clip.mp4"))]
    if everything:
        steps += [("-A", root, "verify", "--all"), ("-A", root, "custody", "checkpoint"), ("-A", root, "audit")]
    for args in steps:
        done = _run(*args, **kwargs)
        assert done.returncode == 0, (args, done.stderr)


def test_nothing_is_readable_by_others_under_a_loose_umask(tmp_path, small_clip):
    root = tmp_path / "archive"
    _use(root, small_clip, tmp_path)
    modes = _modes(root)
    names = set(modes)
    assert {"longwatch.toml", "catalog.sqlite"} <= names and any(n.startswith("storage/") for n in names)
    assert any(n.startswith("keys/") for n in names) and any("ledger/" in n for n in names), sorted(names)
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}
    assert modes["."] == 0o700 and modes["catalog.sqlite"] == 0o600


def test_a_group_may_be_let_in_but_never_everyone(tmp_path, small_clip):
    root = tmp_path / "archive"
    _use(root, small_clip, tmp_path, everything=False, umask=0o000, env={"LONGWATCH_UMASK": "027"})
    modes = _modes(root)
    assert not any(mode & 0o007 for mode in modes.values())
    assert modes["catalog.sqlite"] == 0o640 and modes["."] == 0o750


def test_a_bad_umask_setting_is_refused(tmp_path):
    done = _run("init", tmp_path / "archive", env={"LONGWATCH_UMASK": "rw-r--r--"})
    assert done.returncode != 0 and error_codes(done.stderr) == ["A003"]
    assert not (tmp_path / "archive").exists()
