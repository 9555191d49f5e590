"""The kana keyboard's lexicon (変換辞書), loaded once when the kiosk starts, in the background.

Reading it from its cache takes milliseconds, making it from the SKK dictionaries (after an
install or a package update) seconds (:mod:`kiosk.kana.lexicon`): the app starts it in a thread
of its own when it starts (:meth:`LexiconLoading.start`), and a keyboard shown before it is ready
works with kana alone (hiragana and katakana candidates) and takes the lexicon the next time its
screen is shown. A load that fails leaves the keyboard with kana alone, said once in the log by
the error's type.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.kana import Lexicon, load_lexicon
from kiosk.kana.lexicon import default_cache

log = logging.getLogger(__name__)


def _installed() -> Lexicon:
    return load_lexicon(cache=default_cache())


class LexiconLoading:
    """The lexicon once loaded (:attr:`current`: an empty one until then)."""

    def __init__(self, load: Callable[[], Lexicon] = _installed) -> None:
        self._load = load
        self.current = Lexicon.empty()
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Load in the background (once: later calls do nothing)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kana-lexicon", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            lexicon = self._load()
        except Exception as error:  # kana alone; the kiosk goes on
            log.warning("kana conversion: the lexicon was not loaded (%s)", type(error).__name__)
            lexicon = Lexicon.empty()
        self.current = lexicon
        self.ready.set()


LEXICON = LexiconLoading()  # the kiosk's, started by the app (kiosk.ui.app)
