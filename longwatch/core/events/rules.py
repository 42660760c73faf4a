"""Window rules: per event type, how much footage around an event is preserved, and for how long.

Rules are data (``profiles/window-rules.toml``, or ``window-rules.toml`` in
the archive root, which replaces it) so an operator edits them without code.
They are validated when loaded: a wrong rule must stop before any footage
is kept or left out because of it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longwatch.errors import LongwatchError

PACKAGED = Path(__file__).resolve().parents[2] / "profiles" / "window-rules.toml"
FILE_NAME = "window-rules.toml"
KEYS = {"before", "after", "min_confidence", "retention", "false_positive_retention", "label_en", "label_ko"}


@dataclass(frozen=True)
class Rule:
    type: str
    before: float
    after: float
    min_confidence: float
    retention: str
    false_positive_retention: str
    label_en: str
    label_ko: str

    def label(self, language: str = "en") -> str:
        return self.label_ko if language.startswith("ko") and self.label_ko else self.label_en

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def type_key(name: str) -> str:
    """``vehicle stop``, ``Vehicle-Stop`` and ``vehicle_stop`` are one type."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


class Rules:
    def __init__(self, rules: dict[str, Rule], default: Rule, path: Path) -> None:
        self.rules, self.default, self.path = rules, default, path

    def for_type(self, name: str) -> Rule:
        return self.rules.get(type_key(name)) or Rule(**{**self.default.__dict__, "type": type_key(name),
                                                          "label_en": name, "label_ko": name})

    def types(self) -> list[Rule]:
        return [self.rules[k] for k in sorted(self.rules)]


def _rule(name: str, values: dict[str, Any], base: dict[str, Any], path: Path) -> dict[str, Any]:
    def bad(detail: str) -> LongwatchError:
        return LongwatchError("D013", path=path, detail=f"[{name}] {detail}")

    if not isinstance(values, dict):
        raise bad("expected a table of settings")
    unknown = set(values) - KEYS
    if unknown:
        raise bad(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KEYS))}")
    out = {**base, **values}
    for key in ("before", "after"):
        value = out.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value > 86400:
            raise bad(f"{key} must be seconds from 0 to 86400, got {value!r}")
    conf = out.get("min_confidence")
    if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1:
        raise bad(f"min_confidence must be a number from 0 to 1, got {conf!r}")
    for key in ("retention", "false_positive_retention"):
        if not isinstance(out.get(key), str) or not out[key].strip():
            raise bad(f"{key} must name a retention class, got {out.get(key)!r}")
    for key in ("label_en", "label_ko"):
        if key in out and not isinstance(out[key], str):
            raise bad(f"{key} must be text")
    return out


def parse(text: str, path: Path) -> Rules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LongwatchError("D013", path=path, detail=str(exc)) from exc
    unknown = set(data) - {"defaults", "types"}
    if unknown:
        raise LongwatchError("D013", path=path, detail=f"unknown section(s) {', '.join(sorted(unknown))}; "
                                                      "expected [defaults] and [types.NAME]")
    defaults = _rule("defaults", data.get("defaults", {}), {}, path)
    types = data.get("types", {})
    if not isinstance(types, dict):
        raise LongwatchError("D013", path=path, detail="[types] must hold one table per event type")
    rules = {}
    for name, values in types.items():
        key = type_key(name)
        if key in rules:
            raise LongwatchError("D013", path=path, detail=f"the type {name!r} is given twice")
        merged = _rule(name, values, defaults, path)
        merged.setdefault("label_en", name.replace("_", " "))
        merged.setdefault("label_ko", merged["label_en"])
        rules[key] = Rule(type=key, **{k: merged[k] for k in KEYS})
    default = Rule(type="", label_en="", label_ko="", **{k: defaults[k] for k in KEYS - {"label_en", "label_ko"}})
    return Rules(rules, default, path)


def load(root: Path | None = None) -> Rules:
    """The archive's own rules file when it has one, otherwise the rules shipped with longwatch."""
    path = root / FILE_NAME if root is not None and (root / FILE_NAME).is_file() else PACKAGED
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LongwatchError("D013", path=path, detail=str(exc)) from exc
    return parse(text, path)
