"""Regenerate the Korean catalog from the extracted template and scripts/ko_messages.py (`make i18n`).

A message with a context (``pgettext``) is keyed in the ``KO`` dicts as ``(context, msgid)``; a
plural message (``ngettext``) by its plural msgid ("{count} packages ..."), with the one Korean form
(Korean has no plural).
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po
from ko_messages import KO

ROOT = Path(__file__).resolve().parent.parent
pot = read_po((ROOT / "longwatch/locale/longwatch.pot").open("rb"))
pot.locale = "ko"
# a complete header, so that `msgfmt -c` accepts the catalog without warnings (tests/test_glossary.py)
pot.project = "longwatch"
pot.last_translator = "longwatch translators"
pot.language_team = "Korean"
pot.revision_date = pot.creation_date
pot.fuzzy = False
missing = []
for message in pot:
    if not message.id:
        continue
    msgid = message.id[1] if isinstance(message.id, tuple | list) else message.id
    korean = KO.get((message.context, msgid) if message.context else msgid, "")
    message.string = (korean,) if message.pluralizable else korean
    if not korean:
        missing.append(msgid if not message.context else f"{message.context}: {msgid}")
    if "python-brace-format" in message.flags:
        # longwatch formats with str.format only; "{percent}% full" is not a %-directive, and the flag
        # makes `msgfmt -c` reject the catalog
        message.flags.discard("python-format")
out = ROOT / "longwatch/locale/ko/LC_MESSAGES/longwatch.po"
out.parent.mkdir(parents=True, exist_ok=True)
with out.open("wb") as fh:
    write_po(fh, pot, width=100, omit_header=False, no_location=True, sort_output=True)
print(f"wrote {out.relative_to(ROOT)}; untranslated: {len(missing)}")
for m in missing:
    print("  ", m)
