"""What a resident types on the kana keyboard (かな漢字入力), as a state machine with no Kivy.

The text is two parts: what is **committed** (確定済み) and the **reading** being composed
(未確定の読み, hiragana). Conversion goes segment by segment (文節): the segment is the longest
beginning of the reading the lexicon knows (the whole reading when it knows none); its
candidates are the lexicon's, in the field's order, then the segment in hiragana and in
katakana, then — when the segment is shorter — the whole reading in hiragana and in katakana.
Choosing a candidate commits it in place of the kana it stands for; the rest of the reading
stays composing. The resident may shorten or lengthen the segment (to the next beginning the
lexicon knows, else by one kana) and page through the candidates (``page_size`` a page).

States (:class:`Mode`) and what each key does in it, in one table (:data:`_TABLE`)::

    idle       nothing composing      kana → composing; literal, backspace (a committed character), clear
    composing  the segment automatic  kana, mark, backspace (a kana) → composing or idle; choose → composing
                                      or idle; shorten, lengthen, page → choosing; literal → idle; clear
    choosing   segment or page set    as composing; kana, mark and backspace go back to the automatic
               by the resident        segment (composing)

A literal (a digit, 丁目, 番地, space…) while composing commits the reading as typed (hiragana)
first, as an IME's Enter does. A mark (゛ ゜ 小) acts on the reading's last kana; one that does not
apply does nothing. Nothing goes past ``max_length`` characters (committed and reading together,
a candidate counted as it would be committed); a key that would do nothing, or go past it, returns
``False``. Nothing here is logged; :meth:`TextEntry.wipe` forgets everything typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from kiosk.kana.letters import READING_LETTERS, Mark, katakana, marked
from kiosk.kana.lexicon import Field, Lexicon


class Mode(Enum):
    IDLE = "idle"
    COMPOSING = "composing"
    CHOOSING = "choosing"


class Key(Enum):
    KANA = "kana"
    MARK = "mark"
    LITERAL = "literal"
    CHOOSE = "choose"
    SHORTEN = "shorten"
    LENGTHEN = "lengthen"
    NEXT_PAGE = "next_page"
    PREVIOUS_PAGE = "previous_page"
    BACKSPACE = "backspace"
    CLEAR = "clear"


@dataclass(frozen=True)
class Candidate:
    text: str  # what is committed
    length: int  # how many kana of the reading it stands for


class TextEntry:
    """One field's text being typed. Its keys are methods; each returns whether it changed anything."""

    def __init__(self, lexicon: Lexicon, field: Field, *, max_length: int, page_size: int = 6) -> None:
        if max_length < 1 or page_size < 1:
            raise ValueError("max_length and page_size are at least 1")
        self.lexicon = lexicon
        self.field = field
        self.max_length = max_length
        self.page_size = page_size
        self.mode = Mode.IDLE
        self.committed = ""
        self.reading = ""
        self.segment = 0  # kana of the reading in the segment being converted
        self.page = 0

    # -- the keys ----------------------------------------------------------------------------
    def kana(self, letter: str) -> bool:
        if letter not in READING_LETTERS:
            raise ValueError(f"not a kana of the keyboard: {letter!r}")
        return self._press(Key.KANA, letter)

    def mark(self, mark: Mark) -> bool:
        return self._press(Key.MARK, mark)

    def literal(self, text: str) -> bool:
        """A digit, an address word (丁目, 番地…), a space: committed as it is."""
        if not text or any(c in READING_LETTERS and c != "の" for c in text):
            raise ValueError(f"not a literal: {text!r}")
        return self._press(Key.LITERAL, text)

    def choose(self, position: int) -> bool:
        """The candidate at ``position`` on the page shown."""
        return self._press(Key.CHOOSE, position)

    def shorten(self) -> bool:
        return self._press(Key.SHORTEN)

    def lengthen(self) -> bool:
        return self._press(Key.LENGTHEN)

    def next_page(self) -> bool:
        return self._press(Key.NEXT_PAGE)

    def previous_page(self) -> bool:
        return self._press(Key.PREVIOUS_PAGE)

    def backspace(self) -> bool:
        return self._press(Key.BACKSPACE)

    def clear(self) -> bool:
        return self._press(Key.CLEAR)

    def wipe(self) -> None:
        """Forget everything typed (the session ended)."""
        self._reset()
        self.committed = ""

    # -- what is shown -------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The field as shown: committed text and the reading after it."""
        return self.committed + self.reading

    @property
    def value(self) -> str:
        """The field's value: the committed text (a reading still composing is not part of it)."""
        return self.committed

    def candidates(self) -> list[Candidate]:
        """Every candidate of the segment, in order (those that would go past the length left out)."""
        if not self.reading:
            return []
        segment, reading = self.reading[: self.segment], self.reading
        words = [Candidate(word, len(segment)) for word in self.lexicon.candidates(segment, self.field)]
        words += [Candidate(segment, len(segment)), Candidate(katakana(segment), len(segment))]
        if len(segment) < len(reading):
            words += [Candidate(reading, len(reading)), Candidate(katakana(reading), len(reading))]
        seen: set[str] = set()
        fitting = []
        for candidate in words:
            if candidate.text in seen or not self._fits(candidate):
                continue
            seen.add(candidate.text)
            fitting.append(candidate)
        return fitting

    def shown(self) -> list[Candidate]:
        """The candidates on the page shown."""
        start = self.page * self.page_size
        return self.candidates()[start : start + self.page_size]

    @property
    def pages(self) -> int:
        return -(-len(self.candidates()) // self.page_size)

    # -- the machine -----------------------------------------------------------------------------
    def _press(self, key: Key, *value: object) -> bool:
        handler = _TABLE.get((self.mode, key))
        return False if handler is None else handler(self, *value)

    def _type(self, letter: object) -> bool:
        assert isinstance(letter, str)
        if len(self.text) + 1 > self.max_length:
            return False
        self.reading += letter
        self._automatic()
        return True

    def _mark(self, mark: object) -> bool:
        assert isinstance(mark, Mark)
        changed = marked(self.reading[-1], mark)
        if changed is None:
            return False
        self.reading = self.reading[:-1] + changed
        self._automatic()
        return True

    def _literal(self, text: object) -> bool:
        assert isinstance(text, str)
        if len(self.text) + len(text) > self.max_length:
            return False
        self.committed += self.reading + text
        self._reset()
        return True

    def _choose(self, position: object) -> bool:
        assert isinstance(position, int)
        shown = self.shown()
        if not 0 <= position < len(shown):
            return False
        candidate = shown[position]
        self.committed += candidate.text
        self.reading = self.reading[candidate.length :]
        if self.reading:
            self._automatic()
        else:
            self._reset()
        return True

    def _resize(self, size: int) -> bool:
        if not 1 <= size <= len(self.reading) or size == self.segment:
            return False
        self.segment, self.page, self.mode = size, 0, Mode.CHOOSING
        return True

    def _shorten(self) -> bool:
        """To the next shorter beginning the lexicon knows (else one kana shorter)."""
        known = [n for n in range(self.segment - 1, 0, -1) if self.lexicon.knows(self.reading[:n])]
        return self._resize(known[0] if known else self.segment - 1)

    def _lengthen(self) -> bool:
        """To the next longer beginning the lexicon knows (else one kana longer)."""
        longer = range(self.segment + 1, len(self.reading) + 1)
        known = [n for n in longer if self.lexicon.knows(self.reading[:n])]
        return self._resize(known[0] if known else self.segment + 1)

    def _turn(self, step: int) -> bool:
        page = self.page + step
        if not 0 <= page < self.pages:
            return False
        self.page, self.mode = page, Mode.CHOOSING
        return True

    def _next_page(self) -> bool:
        return self._turn(+1)

    def _previous_page(self) -> bool:
        return self._turn(-1)

    def _delete_kana(self) -> bool:
        self.reading = self.reading[:-1]
        if self.reading:
            self._automatic()
        else:
            self._reset()
        return True

    def _delete_committed(self) -> bool:
        if not self.committed:
            return False
        self.committed = self.committed[:-1]
        return True

    def _clear(self) -> bool:
        if not self.text:
            return False
        self.wipe()
        return True

    def _automatic(self) -> None:
        """The segment back to the longest known beginning of the reading, page one."""
        self.mode = Mode.COMPOSING
        self.segment = self.lexicon.longest_known(self.reading) or len(self.reading)
        self.page = 0

    def _reset(self) -> None:
        self.mode, self.reading, self.segment, self.page = Mode.IDLE, "", 0, 0

    def _fits(self, candidate: Candidate) -> bool:
        rest = len(self.reading) - candidate.length
        return len(self.committed) + len(candidate.text) + rest <= self.max_length


_Handler = Callable[..., bool]
_COMPOSING: dict[Key, _Handler] = {
    Key.KANA: TextEntry._type,
    Key.MARK: TextEntry._mark,
    Key.LITERAL: TextEntry._literal,
    Key.CHOOSE: TextEntry._choose,
    Key.SHORTEN: TextEntry._shorten,
    Key.LENGTHEN: TextEntry._lengthen,
    Key.NEXT_PAGE: TextEntry._next_page,
    Key.PREVIOUS_PAGE: TextEntry._previous_page,
    Key.BACKSPACE: TextEntry._delete_kana,
    Key.CLEAR: TextEntry._clear,
}
#: (state, key) → what it does; a pair not here does nothing.
_TABLE: dict[tuple[Mode, Key], _Handler] = {
    (Mode.IDLE, Key.KANA): TextEntry._type,
    (Mode.IDLE, Key.LITERAL): TextEntry._literal,
    (Mode.IDLE, Key.BACKSPACE): TextEntry._delete_committed,
    (Mode.IDLE, Key.CLEAR): TextEntry._clear,
    **{(Mode.COMPOSING, key): handler for key, handler in _COMPOSING.items()},
    **{(Mode.CHOOSING, key): handler for key, handler in _COMPOSING.items()},
}
