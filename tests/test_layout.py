"""The layout stays readable: docs name real paths, core modules stay small, old import paths still work.

The import rules themselves (layers, no cycles, the core importing no command,
page or concrete plugin) are import-linter contracts in ``.importlinter``, run by
``make test`` and ``make lint``.
"""

from __future__ import annotations

import ast
import importlib
import re
import warnings
from pathlib import Path

import pytest

import longwatch

PACKAGE = Path(longwatch.__file__).resolve().parent
ROOT = PACKAGE.parent
#: The documents a newcomer reads; CHANGES.md is history and keeps the paths of its time.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*/README.md"))]
MAX_LINES = 600
#: A module over MAX_LINES says why in its docstring, in a sentence that starts with these words.
LONG_REASON = "Why one long module:"

FILE_PATH = re.compile(r"(?<![\w/.-])(?:longwatch/)?((?:core|commands|web|plugins|storage_adapters)/[\w/]+\.py)\b")
DOTTED = re.compile(r"(?<![\w.])(longwatch(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
#: file names that look like module paths
NOT_CODE = {"longwatch.toml", "longwatch.env", "longwatch.pot", "longwatch.po", "longwatch.css", "longwatch.js"}


def _is_shim(module: object) -> bool:
    """A deprecated old path (longwatch/_compat.py): docs must name the new one."""
    return isinstance(getattr(module, "__dict__", {}).get("__getattr__"), type(lambda: 0)) and \
        getattr(module, "__getattr__").__qualname__.startswith("moved.")


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest importable module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if _is_shim(obj) or not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return not _is_shim(obj)
    return False


def test_docs_name_files_that_exist():
    missing = sorted({f"{doc.name}: {m.group(1)}" for doc in DOCS for m in FILE_PATH.finditer(doc.read_text())
                      if not (PACKAGE / m.group(1)).exists() or "_compat import moved" in (PACKAGE / m.group(1))
                      .read_text()})
    assert missing == []


def test_docs_name_modules_and_objects_that_exist():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the old paths are not what docs should name
        missing = sorted({f"{doc.name}: {m.group(1)}" for doc in DOCS for m in DOTTED.finditer(doc.read_text())
                          if ".".join(m.group(1).split(".")[:2]) not in NOT_CODE and not _resolves(m.group(1))})
    assert missing == []


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def test_core_modules_are_small_or_say_why():
    """About 600 lines per module; a longer one explains itself in its docstring."""
    unexplained = []
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and LONG_REASON not in _docstring(path):
            unexplained.append(f"{path.relative_to(PACKAGE)} ({lines} lines)")
    assert unexplained == []


@pytest.mark.parametrize(("old", "name"), [
    ("longwatch.core.ingest", "ingest"),
    ("longwatch.core.ingest", "IngestRequest"),
    ("longwatch.core.package", "PREMIS_PATH"),
    ("longwatch.core.metadata", "FileRecord"),
    ("longwatch.core.fixity", "digest_file"),
    ("longwatch.core.signing", "load_certificate"),
    ("longwatch.core.verify", "verify_package"),
    ("longwatch.core.media", "make_test_clip"),
])
def test_old_import_paths_work_for_one_release_with_a_warning(old, name):
    """Third-party plugins written against 0.1 keep working; the warning names the new path."""
    with pytest.deprecated_call(match="longwatch.core"):
        module = importlib.import_module(old)
        importlib.reload(module)
        value = getattr(module, name)
    assert value is not None
