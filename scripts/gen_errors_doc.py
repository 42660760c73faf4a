"""Write docs/errors.md from longwatch.errors.CODES (`make docs`); a test keeps it in step."""

from __future__ import annotations

import sys
from pathlib import Path

from longwatch import i18n
from longwatch.errors import CODES, EXIT_STATUS

FAMILIES = {
    "A": "archive and configuration", "C": "command-line usage", "E": "evidence exports", "I": "input to ingest",
    "K": "keys and signatures", "L": "custody ledger", "N": "camera connectors", "P": "plugins",
    "Q": "catalog and search", "R": "replication, audit and repair", "S": "storage",
    "T": "external tools", "V": "verification findings", "W": "web, API and accounts",
    "X": "XML from outside",
}


def render() -> str:
    lines = [
        "# Error codes",
        "",
        "Every error longwatch reports carries a stable code, printed as `ERROR [CODE] message`.",
        "Codes are never reused or renumbered. The exit status depends on the family (first letter).",
        "This page is generated from `longwatch/errors.py` by `make docs`.",
        "",
    ]
    for family in sorted({code[0] for code in CODES}):
        name = FAMILIES.get(family, "")
        lines += [f"## {family}: {name} (exit status {EXIT_STATUS.get(family, 1)})", "",
                  "| code | message | 한국어 |", "|---|---|---|"]
        for code in sorted(c for c in CODES if c[0] == family):
            english = CODES[code].replace("|", "\\|")
            korean = i18n.translations("ko").gettext(CODES[code]).replace("|", "\\|")
            lines.append(f"| {code} | {english} | {korean} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if out.read_text(encoding="utf-8") == text else 1)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out.name}")
