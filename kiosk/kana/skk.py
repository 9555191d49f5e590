"""A reader of SKK dictionaries (SKK辞書), as Debian's ``skkdic`` and ``skkdic-extra`` install them
under ``/usr/share/skk``: EUC-JP text, comments starting with ``;``, an ``;; okuri-ari entries.``
section (readings with a conjugated ending, 送りあり) and an ``;; okuri-nasi entries.`` section,
one entry a line::

    ばんち /番地/蕃地;未開の地/番値/

Only okuri-nasi entries are read: a kiosk field is an address or a name, never a verb. A
candidate's annotation (after ``;``) is dropped; a candidate written as a Lisp form
(``(concat "...")``) is skipped; a line that is not an entry (no `` /``, an empty reading, no
candidate) is skipped; readings the keyboard cannot type (``#がつ``, ``ai``) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from kiosk.kana.letters import is_reading

ENCODING = "euc_jp"
_OKURI_ARI = ";; okuri-ari entries."
_OKURI_NASI = ";; okuri-nasi entries."


def entries(lines: Iterable[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The okuri-nasi entries of a dictionary's lines: ``(reading, candidates)``. A dictionary
    without section markers is read as okuri-nasi throughout (a small one made by hand)."""
    section_nasi = True
    for line in lines:
        line = line.rstrip("\r\n")
        if line.startswith(";"):
            if line.startswith(_OKURI_ARI):
                section_nasi = False
            elif line.startswith(_OKURI_NASI):
                section_nasi = True
            continue
        if not section_nasi:
            continue
        reading, separator, rest = line.partition(" /")
        if not separator or not is_reading(reading):
            continue
        found = candidates(rest)
        if found:
            yield reading, found


def candidates(field: str) -> tuple[str, ...]:
    """The candidates of an entry's field (``番地/蕃地;未開の地/``), annotations dropped,
    Lisp forms and empty ones skipped, each once, in the dictionary's order."""
    found: list[str] = []
    for item in field.split("/"):
        word = item.split(";", 1)[0].strip()
        if not word or word.startswith("(") or "\t" in word or "\ufffd" in word or word in found:
            continue
        found.append(word)
    return tuple(found)


def read_dictionary(path: Path) -> dict[str, tuple[str, ...]]:
    """One dictionary file's okuri-nasi entries (a reading met twice: its candidates joined)."""
    table: dict[str, tuple[str, ...]] = {}
    with path.open(encoding=ENCODING, errors="replace") as lines:
        for reading, found in entries(lines):
            known = table.get(reading, ())
            table[reading] = known + tuple(word for word in found if word not in known)
    return table
