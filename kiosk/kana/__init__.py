"""The kana keyboard's logic (かな漢字変換), with no Kivy: the kana and their marks
(:mod:`~kiosk.kana.letters`), the SKK dictionaries' reader (:mod:`~kiosk.kana.skk`), the
conversion lexicon (:mod:`~kiosk.kana.lexicon`) and the text being typed (:mod:`~kiosk.kana.entry`)."""

from kiosk.kana.entry import Candidate, Key, Mode, TextEntry
from kiosk.kana.letters import GRID, Mark
from kiosk.kana.lexicon import Field, Lexicon, Source, load_lexicon

__all__ = [
    "GRID",
    "Candidate",
    "Field",
    "Key",
    "Lexicon",
    "Mark",
    "Mode",
    "Source",
    "TextEntry",
    "load_lexicon",
]
