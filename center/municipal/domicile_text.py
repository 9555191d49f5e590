"""How an applicant's typed 本籍 and names are compared with the family register's: both sides
are brought to one canonical form, and only equal forms match.

Names (氏名, 筆頭者氏名): Unicode NFKC (full-width letters and digits to half-width, half-width
katakana to full-width), then every space removed (「佐藤　太郎」, 「佐藤 太郎」 and 「佐藤太郎」
are one name). Nothing else: old and new forms of a kanji (髙/高, 齋/斎) are different characters
in the register too, and are not guessed at.

The 本籍 (:func:`canonical_domicile`), beside NFKC and spaces:

- a number in kanji before 丁目, 番地, 番, 号 or の, or after 番地の, is a number:
  「二丁目十五番地の三」 is 「2丁目15番地の3」 (一〜九, 〇, 十, 百, 千; 「二〇三」 is 203);
- 番地 is 番: 「15番地」 and 「15番」 are one (the register writes 番地, people often type 番);
- hyphen-like characters (－, ‐, −, ―, ー after a digit) are one hyphen, so 「15番地の3」 still
  differs from 「15-3」: the 地番 is written in words, and is typed so.

Not accepted: a missing prefecture (「千代田区…」 for 「東京都千代田区…」), a different town
name spelling, 「丁目」 typed as a hyphen (「2-15」 for 「2丁目15番地」).
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile(
    r"[〇零一二三四五六七八九十百千]+(?=丁目|番地|番|号|の)"
    r"|(?:(?<=番の)|(?<=番地の))[〇零一二三四五六七八九十百千]+"
)
_HYPHENS = re.compile(r"(?<=\d)ー|[‐‑‒–—―−－]")
_SPACES = re.compile(r"\s+")


def canonical_name(text: str) -> str:
    """A person's name as compared: NFKC, no spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def kanji_number(text: str) -> int:
    """「十五」 → 15, 「二〇三」 → 203, 「千二百」 → 1200 (digits only, or with 十, 百, 千)."""
    if not any(char in _UNITS for char in text):
        value = 0
        for char in text:
            value = value * 10 + _DIGITS[char]
        return value
    total, digit = 0, None
    for char in text:
        if char in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[char]
            digit = None
        else:
            digit = (digit or 0) * 10 + _DIGITS[char]
    return total + (digit or 0)


def canonical_domicile(text: str) -> str:
    """A 本籍 as compared (see the module's words for what is the same)."""
    text = canonical_name(text)  # NFKC, no spaces
    text = _KANJI_NUMBER.sub(lambda match: str(kanji_number(match.group())), text)
    text = _HYPHENS.sub("-", text)
    return text.replace("番地", "番")
