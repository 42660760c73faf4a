"""Korean translations, kept as data and merged into locale/ko/LC_MESSAGES/longwatch.po by `make i18n`.

Why a folder of files: each area of work (ledger, exports, web, ...) keeps its
own `scripts/ko/<area>.py` with one dict `KO`, so two changes that add
messages at the same time do not collide in one long file. A msgid defined in
two files is an error, not a silent override.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

KO: dict[str, str] = {}
for _path in sorted((Path(__file__).resolve().parent / "ko").glob("*.py")):
    _spec = importlib.util.spec_from_file_location(f"ko_{_path.stem}", _path)
    assert _spec and _spec.loader
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    _twice = set(KO) & set(_module.KO)
    if _twice:
        raise SystemExit(f"{_path.name} translates again: {sorted(_twice)[:3]}")
    KO.update(_module.KO)
