"""The conversion dictionary (変換辞書) of the kana keyboard: Debian's SKK dictionaries merged
into one compact index, loaded once when the kiosk starts.

Three dictionaries are read (:class:`Source`): ``SKK-JISYO.L`` (skkdic, general words),
``SKK-JISYO.geo`` (skkdic-extra, places) and ``SKK-JISYO.jinmei`` (skkdic-extra, names). The
index is one UTF-8 text, one line a reading in code point order::

    やまだ<TAB>山田<TAB>山田/ヤマダ<TAB>山田

(the candidates of each source in :class:`Source` order, ``/`` between them), searched by
bisection on the bytes (as ``look(1)`` does): about 12 MB in memory, where a Python dict of the
same entries takes ten times that. Made from the dictionaries it takes a second or two (more on a
Raspberry Pi), so it is kept in a cache directory with the sources' sizes and times in its first
line, and made again only when they change. It holds dictionary words only, nothing typed.

A dictionary that is not installed is left out, and said once in the log by its kind; with none,
the keyboard offers the reading in hiragana and katakana only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path

from kiosk.kana.skk import read_dictionary

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY = Path("/usr/share/skk")  # where Debian's skkdic and skkdic-extra install them
CACHE_NAME = "kana-lexicon.txt"
FORMAT = "koufu-kana-lexicon 1"


class Source(Enum):
    """A dictionary, by kind, and its file."""

    GENERAL = "SKK-JISYO.L"  # skkdic
    PLACES = "SKK-JISYO.geo"  # skkdic-extra: 地名
    NAMES = "SKK-JISYO.jinmei"  # skkdic-extra: 人名


class Field(Enum):
    """What a field holds, which decides whose candidates come first."""

    ADDRESS = "address"  # 本籍: places, then general words
    NAME = "name"  # 筆頭者の氏名: names, then general words

    @property
    def sources(self) -> tuple[Source, ...]:
        return (Source.PLACES, Source.GENERAL) if self is Field.ADDRESS else (Source.NAMES, Source.GENERAL)


_COLUMN = {source: number for number, source in enumerate(Source, start=1)}


class Lexicon:
    """Readings and their candidates, by source. ``Lexicon.empty()`` knows no word."""

    def __init__(self, index: bytes, sources: Sequence[Source] = ()) -> None:
        if index and not index.endswith(b"\n"):
            raise ValueError("a lexicon's index ends with a line end")
        self._index = index
        self.sources = tuple(sources)  # the dictionaries it was made of

    @classmethod
    def empty(cls) -> Lexicon:
        return cls(b"")

    @classmethod
    def from_tables(cls, tables: Mapping[Source, Mapping[str, Sequence[str]]]) -> Lexicon:
        return cls(_index(tables), tuple(tables))

    def __len__(self) -> int:
        return self._index.count(b"\n")

    def knows(self, reading: str) -> bool:
        return self._line(reading) is not None

    def longest_known(self, reading: str) -> int:
        """The length of the longest beginning of ``reading`` that has candidates (0: none)."""
        for length in range(len(reading), 0, -1):
            if self._line(reading[:length]) is not None:
                return length
        return 0

    def candidates(self, reading: str, field: Field) -> tuple[str, ...]:
        """The candidates of ``reading``, the field's sources in order, each word once."""
        line = self._line(reading)
        if line is None:
            return ()
        columns = line.decode("utf-8").split("\t")
        found: list[str] = []
        for source in field.sources:
            for word in columns[_COLUMN[source]].split("/") if columns[_COLUMN[source]] else ():
                if word not in found:
                    found.append(word)
        return tuple(found)

    def _line(self, reading: str) -> bytes | None:
        """The index's line for ``reading``, by bisection over the lines' bytes."""
        key, data = reading.encode("utf-8"), self._index
        low, high = 0, len(data)  # both at a line's start (or the end)
        while low < high:
            middle = (low + high) // 2
            before = data.rfind(b"\n", low, middle)
            start = low if before < 0 else before + 1
            end = data.index(b"\n", start)
            found = data[start : data.index(b"\t", start, end)]
            if found == key:
                return data[start:end]
            if found < key:
                low = end + 1
            else:
                high = start
        return None


def _index(tables: Mapping[Source, Mapping[str, Sequence[str]]]) -> bytes:
    readings = sorted({reading for table in tables.values() for reading in table}, key=str.encode)
    lines = []
    for reading in readings:
        columns = ["/".join(tables[source].get(reading, ())) if source in tables else "" for source in Source]
        lines.append("\t".join([reading, *columns]) + "\n")
    return "".join(lines).encode("utf-8")


def default_cache() -> Path:
    """The kiosk user's cache directory for the lexicon (``$XDG_CACHE_HOME/koufu``, else
    ``~/.cache/koufu``): dictionary words only, nothing of a resident."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "koufu"


def load_lexicon(directory: Path = DEFAULT_DIRECTORY, cache: Path | None = None) -> Lexicon:
    """The lexicon of the dictionaries in ``directory``: from ``cache`` (a directory) when it was
    made of the same files, else made from them (and kept there when it can be written)."""
    present = [source for source in Source if (directory / source.value).is_file()]
    for source in Source:
        if source not in present:
            log.warning(
                "kana conversion: the %s dictionary (%s) is not installed", source.name.lower(), source.value
            )
    if not present:
        log.warning("kana conversion: no dictionary; the keyboard offers hiragana and katakana only")
        return Lexicon.empty()
    stamp = json.dumps(
        [FORMAT, *([source.value, *_identity(directory / source.value)] for source in present)],
        ensure_ascii=True,
    )
    if cache is not None:
        kept = _read_cache(cache / CACHE_NAME, stamp)
        if kept is not None:
            return Lexicon(kept, present)
    lexicon = Lexicon.from_tables({source: read_dictionary(directory / source.value) for source in present})
    if cache is not None:
        _write_cache(cache / CACHE_NAME, stamp, lexicon._index)
    return lexicon


def _identity(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


def _read_cache(path: Path, stamp: str) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header, _, index = data.partition(b"\n")
    if header.decode("ascii", errors="replace") != stamp or (index and not index.endswith(b"\n")):
        return None
    return index


def _write_cache(path: Path, stamp: str, index: bytes) -> None:
    """Written whole or not at all (a temporary file renamed); a cache that cannot be written is
    only a slower start, said once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".kana-", delete=False) as out:
            try:
                out.write(stamp.encode("ascii") + b"\n" + index)
            except OSError:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
    except OSError as error:
        log.warning("kana conversion: the lexicon's cache was not kept (%s)", type(error).__name__)
