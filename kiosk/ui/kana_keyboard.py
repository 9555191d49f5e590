"""The Japanese on-screen keyboard (かな入力キーボード): a 50音 grid, the marks ゛ ゜ and 小, a
panel of digits and address words (丁目, 番地, 番, 号, の, －), and a row of kanji candidates
for the kana being composed (:class:`~kiosk.kana.TextEntry`), for a screen that asks for a
本籍 or a name. Its looks are in ``kana_keyboard.kv``; its words in the catalogs (``kana.*``).

Every key is a :class:`~kiosk.ui.widgets.KioskButton` with a target (``kana-や``, ``mark-dakuten``,
``literal-番地``, ``candidate-0``, ``shorten``, ``numbers``…), at least 90 px (15 mm) each way on
the 1280×800 panel under a screen's header. What is typed stays in the entry and on the field's
label; it is never logged, and :meth:`KanaKeyboard.wipe` forgets it (the session's end calls it).
A screen learns of each key by ``on_key`` (its action only, never what was typed).
"""

# mypy: allow-subclassing-any

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, DictProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from kiosk.kana import GRID, Field, Lexicon, Mark, TextEntry
from kiosk.kana.letters import marked
from kiosk.messages import Catalog
from kiosk.ui.widgets import KioskButton

NUMBERS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "丁目", "番地", "番", "号", "の", "－")
PAGE_SIZE = 6  # candidates on the row at once
FIELD_FONT = 44  # px of the field's text while it fits
MAX_LENGTH = {Field.ADDRESS: 60, Field.NAME: 20}  # characters a field takes


class KanaKeyboard(BoxLayout):
    """The keyboard with its field. ``catalog`` gives its words; ``lexicon`` and ``field`` its
    conversion; ``prompt`` says what is asked (a catalog key, e.g. ``kana.prompt.address``)."""

    catalog = ObjectProperty(None)
    words = DictProperty({})
    prompt = StringProperty("")
    shown = StringProperty("")  # the field's text with markup: committed, then the reading
    value = StringProperty("")  # the committed text: what the field will hold
    composing = BooleanProperty(False)
    numbers = BooleanProperty(False)  # the digits and address words instead of the 50音
    kana_only = BooleanProperty(False)  # no dictionary: hiragana and katakana candidates only

    __events__ = ("on_key",)

    def __init__(
        self,
        catalog: Catalog,
        lexicon: Lexicon,
        field: Field,
        *,
        max_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.entry = TextEntry(
            lexicon, field, max_length=max_length or MAX_LENGTH[field], page_size=PAGE_SIZE
        )
        super().__init__(catalog=catalog, words=catalog.texts, kana_only=len(lexicon) == 0, **kwargs)
        self._build_keys()
        self.refresh()

    def on_catalog(self, _keyboard: KanaKeyboard, catalog: Catalog) -> None:
        self.words = catalog.texts

    def on_key(self, action: str) -> None:
        """A key was pressed (for the screen's timeout); what was typed is not said."""

    # -- the keys ----------------------------------------------------------------------------
    def press(self, action: str, value: Any = None) -> None:
        entry = self.entry
        if action == "kana":
            entry.kana(str(value))
        elif action == "mark":
            entry.mark(Mark(value))
        elif action == "literal":
            entry.literal(str(value))
        elif action == "space":
            entry.literal(" ")
        elif action == "candidate":
            entry.choose(int(value))
        elif action == "numbers":
            self.numbers = not self.numbers
        elif action in ("shorten", "lengthen", "next_page", "previous_page", "backspace", "clear"):
            getattr(entry, action)()
        else:
            raise ValueError(f"no such key: {action}")
        self.refresh()
        self.dispatch("on_key", action)

    def use_lexicon(self, lexicon: Lexicon) -> None:
        """Convert with ``lexicon`` from now on (the kiosk's, once loaded in the background)."""
        if lexicon is not self.entry.lexicon:
            self.entry.lexicon = lexicon
            self.kana_only = len(lexicon) == 0
            self.refresh()

    def start_with(self, text: str) -> None:
        """The field holding ``text`` already, committed (a screen shown again with its value)."""
        self.entry.wipe()
        self.entry.committed = text[: self.entry.max_length]
        self.refresh()

    def wipe(self) -> None:
        """Forget everything typed: the entry, the field, the candidates (the session ended)."""
        self.entry.wipe()
        self.numbers = False
        self.refresh()

    # -- what is shown -------------------------------------------------------------------------
    def refresh(self) -> None:
        entry = self.entry
        self.value = entry.value
        self.composing = bool(entry.reading)
        segment, rest = entry.reading[: entry.segment], entry.reading[entry.segment :]
        self.shown = (
            escape_markup(entry.committed)
            + (f"[u][color=1266c4]{escape_markup(segment)}[/color][/u]" if segment else "")
            + (f"[u]{escape_markup(rest)}[/u]" if rest else "")
        )
        self.ids.field.font_size = min(
            dp(FIELD_FONT), int(self.ids.field.width * 0.95 / max(1, len(entry.text)))
        )
        shown = entry.shown()
        for position, button in enumerate(self._candidates):
            candidate = shown[position] if position < len(shown) else None
            button.text = candidate.text if candidate else ""
            button.disabled = candidate is None
            button.font_size = candidate_font(button.text, button.width)
        self.ids.previous_page.disabled = entry.page == 0
        self.ids.next_page.disabled = entry.page >= entry.pages - 1
        last = entry.reading[-1:] or None
        for button in self._marks:
            button.disabled = last is None or marked(last, Mark(button.value)) is None
        for action in ("shorten", "lengthen"):
            self.ids[action].disabled = not self.composing
        self.ids.backspace.disabled = self.ids["clear"].disabled = not entry.text  # ids.clear: a dict's

    def on_size(self, *_args: Any) -> None:
        if hasattr(self, "_candidates"):
            self.refresh()

    def on_numbers(self, _keyboard: KanaKeyboard, numbers: bool) -> None:
        if not hasattr(self, "_digits"):
            return  # set before the keys are made: they are placed when made
        pad = self.ids.pad
        pad.clear_widgets()
        pad.add_widget(self._digits if numbers else self._letters)

    def _build_keys(self) -> None:
        self._letters = GridLayout(cols=10, rows=5, spacing=dp(6))
        for row in range(5):
            for column in reversed(GRID):  # as a 50音表: あ on the right, わ on the left
                letter = column[row]
                self._letters.add_widget(self._key("kana", letter, letter) if letter else Widget())
        self._digits = GridLayout(cols=5, rows=4, spacing=dp(6))
        for text in NUMBERS:
            self._digits.add_widget(self._key("literal", text, text))
        while len(self._digits.children) < 20:
            self._digits.add_widget(Widget())
        self.on_numbers(self, self.numbers)
        self._candidates = []
        for position in range(PAGE_SIZE):
            button = self._key("candidate", position, "", CandidateKey)
            self.ids.candidates.add_widget(button)
            self._candidates.append(button)
        self._marks = [self.ids.dakuten, self.ids.handakuten, self.ids.small]

    def _key(self, action: str, value: Any, text: str, kind: type[KanaKey] | None = None) -> KanaKey:
        key = (kind or KanaKey)(action=action, value=value, text=text)
        key.bind(on_release=lambda button: self.press(button.action, button.value))
        return key


def candidate_font(text: str, width: float) -> float:
    """A candidate's font size (px): smaller for a long word, so it fits its key on one line."""
    return float(max(dp(14), min(dp(30), (width - dp(40)) / max(1, len(text)))))


class KanaKey(KioskButton):
    """One key of the keyboard (its looks in ``kana_keyboard.kv``)."""


class CandidateKey(KanaKey):
    """A candidate's key; empty when the page has fewer candidates (not shown)."""


Builder.load_file(str(Path(__file__).with_name("kana_keyboard.kv")))
