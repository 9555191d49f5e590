"""The kana of the on-screen keyboard (五十音) and what the mark keys do to the last one typed:
dakuten (濁点 ゛), handakuten (半濁点 ゜) and small kana (小書き). Pure tables, no Kivy.

A mark that does not apply to the kana (゛ on あ, 小 on か) changes nothing: :func:`marked`
returns ``None``.
"""

from __future__ import annotations

from enum import Enum

#: The 50音 grid as columns (あ段 … わ段), each top to bottom; ``""`` is an empty cell.
GRID: tuple[tuple[str, ...], ...] = (
    ("あ", "い", "う", "え", "お"),
    ("か", "き", "く", "け", "こ"),
    ("さ", "し", "す", "せ", "そ"),
    ("た", "ち", "つ", "て", "と"),
    ("な", "に", "ぬ", "ね", "の"),
    ("は", "ひ", "ふ", "へ", "ほ"),
    ("ま", "み", "む", "め", "も"),
    ("や", "", "ゆ", "", "よ"),
    ("ら", "り", "る", "れ", "ろ"),
    ("わ", "を", "ん", "ー", ""),
)
CHOON = "ー"  # 長音符: typed like a kana (katakana names: ジョーンズ)

_VOICED = dict(
    zip(
        "かきくけこさしすせそたちつてとはひふへほう",
        "がぎぐげござじずぜぞだぢづでどばびぶべぼゔ",
        strict=True,
    )
)
_SEMI_VOICED = dict(zip("はひふへほ", "ぱぴぷぺぽ", strict=True))
_SMALL = dict(zip("あいうえおつやゆよわ", "ぁぃぅぇぉっゃゅょゎ", strict=True))
_PLAIN_OF_VOICED = {voiced: plain for plain, voiced in _VOICED.items()}
_PLAIN_OF_SEMI = {semi: plain for plain, semi in _SEMI_VOICED.items()}
_LARGE = {small: large for large, small in _SMALL.items()}

#: Every letter a reading can hold: the grid's, their marked forms and ー.
READING_LETTERS = frozenset(
    {letter for column in GRID for letter in column if letter}
    | set(_VOICED.values())
    | set(_SEMI_VOICED.values())
    | set(_SMALL.values())
)


class Mark(Enum):
    DAKUTEN = "dakuten"  # ゛: か→が, が→か, ぱ→ば
    HANDAKUTEN = "handakuten"  # ゜: は→ぱ, ぱ→は, ば→ぱ
    SMALL = "small"  # 小: つ→っ, っ→つ


def marked(letter: str, mark: Mark) -> str | None:
    """``letter`` with ``mark`` applied (the same key again takes it off), or ``None``."""
    if mark is Mark.DAKUTEN:
        if letter in _VOICED:
            return _VOICED[letter]
        if letter in _PLAIN_OF_VOICED:
            return _PLAIN_OF_VOICED[letter]
        if letter in _PLAIN_OF_SEMI:
            return _VOICED[_PLAIN_OF_SEMI[letter]]
        return None
    if mark is Mark.HANDAKUTEN:
        if letter in _SEMI_VOICED:
            return _SEMI_VOICED[letter]
        if letter in _PLAIN_OF_SEMI:
            return _PLAIN_OF_SEMI[letter]
        plain = _PLAIN_OF_VOICED.get(letter)
        return _SEMI_VOICED.get(plain) if plain else None
    return _SMALL.get(letter) or _LARGE.get(letter)


def katakana(reading: str) -> str:
    """The reading in katakana (ひらがな → カタカナ; ー and anything else unchanged)."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in reading)


def is_reading(text: str) -> bool:
    """Whether ``text`` is a reading the keyboard can type (hiragana of the grid, marks, ー)."""
    return bool(text) and all(c in READING_LETTERS for c in text)
