"""A ``.po`` catalog read straight into GNU gettext's translations, without Babel.

Why not Babel's ``read_po`` and ``write_mo`` (as before): importing Babel and
running its general parser cost every command in Korean, ``--help``
included, about 60 ms, a fifth of a start-up (issue 23). Our catalogs are
written by Babel (``make i18n``) in one plain form: entries of ``msgctxt``,
``msgid``, ``msgid_plural``, ``msgstr`` and ``msgstr[N]``, each a run of
quoted C strings, with ``#`` comments and flags. This reads that form and
keeps what ``write_mo`` keeps: the header, then every entry that is not
fuzzy and is translated or has plural forms (an empty form falls back to
its msgid).
``tests/test_i18n.py`` checks that every message comes out as Babel's
reading gives it.
"""

from __future__ import annotations

import array
import io
import re
import struct
from gettext import GNUTranslations

_ESCAPES = {"\\": "\\", "t": "\t", "r": "\r", "n": "\n", '"': '"'}
_ESCAPE = re.compile(r"\\(.)")
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def _unquote(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text.strip()[1:-1])


class _Entry:
    __slots__ = ("context", "fuzzy", "msgid", "plural", "strings")

    def __init__(self) -> None:
        self.context: str | None = None
        self.msgid: str | None = None
        self.plural: str | None = None
        self.strings: dict[int, str] = {}
        self.fuzzy = False


def entries(text: str) -> list[_Entry]:
    """Every entry of the catalog ``text``, the header (msgid "") included, in file order."""
    found: list[_Entry] = []
    entry = _Entry()
    field: tuple[str, int] | None = None
    flags_pending = False

    def close() -> None:
        nonlocal entry, field
        if entry.msgid is not None:
            found.append(entry)
        entry, field = _Entry(), None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if entry.msgid is not None and entry.strings:  # a comment starts the next entry
                close()
            if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                flags_pending = True
            continue
        if line.startswith('"'):
            if field is None:
                raise ValueError(f"a continued string outside an entry: {raw!r}")
            name, index = field
            value = _unquote(line)
            if name == "msgctxt":
                entry.context = (entry.context or "") + value
            elif name == "msgid":
                entry.msgid = (entry.msgid or "") + value
            elif name == "msgid_plural":
                entry.plural = (entry.plural or "") + value
            else:
                entry.strings[index] = entry.strings.get(index, "") + value
            continue
        match = _KEYWORD.match(line)
        if match is None:
            raise ValueError(f"not a catalog line: {raw!r}")
        keyword, index_text, quoted = match.groups()
        if keyword in ("msgctxt", "msgid") and entry.strings:  # the next entry begins without a comment
            close()
        if flags_pending:
            entry.fuzzy, flags_pending = True, False
        value = _unquote(quoted)
        if keyword == "msgctxt":
            entry.context, field = value, ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, field = value, ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.plural, field = value, ("msgid_plural", 0)
        else:
            index = int(index_text) if index_text is not None else 0
            entry.strings[index], field = value, ("msgstr", index)
    close()
    return found


def _mo(messages: dict[bytes, bytes]) -> bytes:
    """The GNU ``.mo`` form of ``messages`` (as Python's Tools/i18n/msgfmt.py and Babel's write_mo lay it out)."""
    keys = sorted(messages)
    ids = bytearray()
    strs = bytearray()
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    keystart = 7 * 4 + 16 * len(keys)
    valuestart = keystart + len(ids)
    table: list[int] = []
    for o1, l1, _o2, _l2 in offsets:
        table += [l1, o1 + keystart]
    for _o1, _l1, o2, l2 in offsets:
        table += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    return header + array.array("i", table).tobytes() + bytes(ids) + bytes(strs)


def translations(text: str) -> GNUTranslations:
    """GNU gettext's translations of the catalog ``text``: what Babel's ``write_mo`` would have written."""
    messages: dict[bytes, bytes] = {}
    for entry in entries(text):
        assert entry.msgid is not None
        header = entry.msgid == "" and entry.context is None
        # as write_mo: a fuzzy entry is left out, and so is an untranslated one, unless it has plural forms
        # (their empty forms become the msgids, so Korean's one form answers with the singular)
        if not header and (entry.fuzzy or (entry.plural is None and not entry.strings.get(0))):
            continue
        if entry.plural is not None:
            forms = [entry.strings.get(i, "") or (entry.msgid if i == 0 else entry.plural)
                     for i in range(max(entry.strings, default=0) + 1)]
            key, value = f"{entry.msgid}\0{entry.plural}", "\0".join(forms)
        else:
            key, value = entry.msgid, entry.strings.get(0, "")
        if entry.context is not None:
            key = f"{entry.context}\x04{key}"
        messages[key.encode("utf-8")] = value.encode("utf-8")
    return GNUTranslations(io.BytesIO(_mo(messages)))
