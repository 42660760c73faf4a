"""Add every command's --help text to the catalog template (`make i18n`, after pybabel extract).

pybabel reads gettext calls, not click's docstrings and ``help=`` strings; this walks the command tree
(built-in plugins included) and adds each text as a msgid, so `--help` can speak Korean (longwatch/cli_help.py).
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

from longwatch.cli import cli
from longwatch.cli_help import all_help_texts

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "longwatch/locale/longwatch.pot"
with POT.open("rb") as fh:
    template = read_po(fh)
texts = all_help_texts(cli)
for text in texts:
    if text not in template:
        template.add(text, flags=("python-brace-format",) if "{" in text else ())
with POT.open("wb") as fh:
    write_po(fh, template, width=100, omit_header=False, no_location=True, sort_output=True)
print(f"{len(texts)} help texts in {POT.relative_to(ROOT)}")
