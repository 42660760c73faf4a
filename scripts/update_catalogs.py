"""Regenerate the Korean catalog from the extracted template and scripts/ko_messages.py (`make i18n`)."""

from pathlib import Path

from babel.messages.pofile import read_po, write_po
from ko_messages import KO

ROOT = Path(__file__).resolve().parent.parent
pot = read_po((ROOT / "longwatch/locale/longwatch.pot").open("rb"))
pot.locale = "ko"
missing = []
for message in pot:
    if message.id:
        message.string = KO.get(message.id, "")
        if not message.string:
            missing.append(message.id)
out = ROOT / "longwatch/locale/ko/LC_MESSAGES/longwatch.po"
out.parent.mkdir(parents=True, exist_ok=True)
with out.open("wb") as fh:
    write_po(fh, pot, width=100, omit_header=False, no_location=True, sort_output=True)
print(f"wrote {out.relative_to(ROOT)}; untranslated: {len(missing)}")
for m in missing:
    print("  ", m)
