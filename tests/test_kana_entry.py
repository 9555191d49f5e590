"""The kana keyboard's logic (:mod:`kiosk.kana`): the marks on the last kana, the SKK reader on a
small dictionary written here, the lexicon and its cache, and typing addresses and names with
conversion from the dictionaries Debian's skkdic and skkdic-extra install (``make`` installs them)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kiosk.kana import Field, Lexicon, Mark, Mode, Source, TextEntry, load_lexicon
from kiosk.kana.letters import GRID, READING_LETTERS, katakana, marked
from kiosk.kana.lexicon import CACHE_NAME, DEFAULT_DIRECTORY
from kiosk.kana.skk import candidates, entries, read_dictionary

# -- the marks ---------------------------------------------------------------------------------

MARKS = [  # (letter, mark, result; None: the mark does nothing)
    ("か", Mark.DAKUTEN, "が"),
    ("が", Mark.DAKUTEN, "か"),
    ("つ", Mark.DAKUTEN, "づ"),
    ("う", Mark.DAKUTEN, "ゔ"),
    ("は", Mark.DAKUTEN, "ば"),
    ("ぱ", Mark.DAKUTEN, "ば"),
    ("は", Mark.HANDAKUTEN, "ぱ"),
    ("ば", Mark.HANDAKUTEN, "ぱ"),
    ("ぱ", Mark.HANDAKUTEN, "は"),
    ("ほ", Mark.HANDAKUTEN, "ぽ"),
    ("つ", Mark.SMALL, "っ"),
    ("っ", Mark.SMALL, "つ"),
    ("よ", Mark.SMALL, "ょ"),
    ("あ", Mark.SMALL, "ぁ"),
    ("わ", Mark.SMALL, "ゎ"),
    ("あ", Mark.DAKUTEN, None),
    ("ん", Mark.DAKUTEN, None),
    ("か", Mark.HANDAKUTEN, None),
    ("が", Mark.HANDAKUTEN, None),
    ("か", Mark.SMALL, None),
    ("ー", Mark.SMALL, None),
    ("づ", Mark.SMALL, None),
]


@pytest.mark.parametrize(("letter", "mark", "result"), MARKS)
def test_a_mark_on_the_last_kana(letter: str, mark: Mark, result: str | None) -> None:
    assert marked(letter, mark) == result
    entry = TextEntry(Lexicon.empty(), Field.NAME, max_length=10)
    entry.kana("や")
    entry.kana(letter)
    assert entry.mark(mark) is (result is not None)
    assert entry.reading == "や" + (result or letter)


def test_the_grid_and_katakana() -> None:
    assert len(GRID) == 10 and all(len(column) == 5 for column in GRID)
    assert {letter for column in GRID for letter in column if letter} <= READING_LETTERS
    assert katakana("とうきょう") == "トウキョウ"
    assert katakana("じょーんず") == "ジョーンズ"
    assert katakana("ゔぁっ") == "ヴァッ"


def test_a_mark_with_nothing_composing_does_nothing() -> None:
    entry = TextEntry(Lexicon.empty(), Field.NAME, max_length=10)
    assert entry.mark(Mark.DAKUTEN) is False
    entry.literal("1")
    assert entry.mark(Mark.SMALL) is False
    assert entry.text == "1"


# -- the SKK reader -----------------------------------------------------------------------------

SMALL_DICTIONARY = """\
;; -*- mode: fundamental; coding: euc-jp -*-
;; okuri-ari entries.
あいs /愛/哀/
やまだ /山出;送りありの節なので読まない/
;; okuri-nasi entries.
ばんち /番地/蕃地;未開の地/番値/
ちよだ /千代田;地名/(concat "千代\\057田")/千代田/
#がつ /#1月/
ai /愛/
malformed line without a slash
ぬけ /
やまだ /山田/
やまだ /ヤマダ/山田/
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    directory = tmp_path / "skk"
    directory.mkdir()
    (directory / Source.GENERAL.value).write_bytes(SMALL_DICTIONARY.encode("euc_jp"))
    return directory


def test_the_reader_keeps_okuri_nasi_entries_only(small: Path) -> None:
    assert read_dictionary(small / Source.GENERAL.value) == {
        "ばんち": ("番地", "蕃地", "番値"),
        "ちよだ": ("千代田",),  # the annotation dropped, the lisp form skipped, once only
        "やまだ": ("山田", "ヤマダ"),  # met twice: joined
    }


def test_the_reader_s_edge_cases() -> None:
    assert candidates("番地/蕃地;未開の地/番値/") == ("番地", "蕃地", "番値")
    assert candidates('(concat "a\\057b")/;only a note/') == ()
    no_sections = ["やま /山/", "かわ/川/", " /空/", "かわ /"]  # read as okuri-nasi
    assert list(entries(no_sections)) == [("やま", ("山",))]


def test_the_lexicon_orders_by_field_and_finds_the_longest_known(small: Path, tmp_path: Path) -> None:
    lexicon = Lexicon.from_tables(
        {
            Source.GENERAL: {"やまだ": ["山田", "ヤマダ"], "やま": ["山"], "あ": ["亜"]},
            Source.NAMES: {"やまだ": ["山田", "八万田"]},
            Source.PLACES: {"やまだ": ["山田", "山多"]},
        }
    )
    assert lexicon.candidates("やまだ", Field.NAME) == ("山田", "八万田", "ヤマダ")
    assert lexicon.candidates("やまだ", Field.ADDRESS) == ("山田", "山多", "ヤマダ")
    assert lexicon.candidates("やまだい", Field.NAME) == ()
    assert lexicon.longest_known("やまだいち") == 3
    assert lexicon.longest_known("やまい") == 2
    assert lexicon.longest_known("いや") == 0
    known = [lexicon.knows(reading) for reading in ("あ", "や", "やま", "やまだ", "ん")]
    assert known == [True, False, True, True, False]
    assert Lexicon.empty().longest_known("やま") == 0


def test_the_lexicon_is_kept_in_a_cache_and_made_again_when_a_dictionary_changes(
    small: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING):
        first = load_lexicon(small, cache)
    assert first.candidates("ばんち", Field.ADDRESS)[0] == "番地"
    kept = (cache / CACHE_NAME).read_bytes()
    assert "番地".encode() in kept
    # said once each by kind: the two missing dictionaries, nothing typed
    assert sorted(r.getMessage() for r in caplog.records) == [
        "kana conversion: the names dictionary (SKK-JISYO.jinmei) is not installed",
        "kana conversion: the places dictionary (SKK-JISYO.geo) is not installed",
    ]
    assert load_lexicon(small, cache).candidates("やまだ", Field.NAME) == ("山田", "ヤマダ")
    (small / Source.GENERAL.value).write_bytes(";; okuri-nasi entries.\nやまだ /矢間田/\n".encode("euc_jp"))
    assert load_lexicon(small, cache).candidates("やまだ", Field.NAME) == ("矢間田",)


def test_without_dictionaries_the_keyboard_offers_the_kana_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        lexicon = load_lexicon(tmp_path / "none", tmp_path / "cache")
    assert len(lexicon) == 0
    assert len([r for r in caplog.records if "no dictionary" in r.getMessage()]) == 1
    entry = TextEntry(lexicon, Field.NAME, max_length=20)
    for letter in "やまだ":
        entry.kana(letter)
    assert [c.text for c in entry.candidates()] == ["やまだ", "ヤマダ"]
    assert entry.choose(1) and entry.value == "ヤマダ"


# -- typing, with the installed dictionaries -------------------------------------------------------


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory: pytest.TempPathFactory) -> Lexicon:
    missing = [s.value for s in Source if not (DEFAULT_DIRECTORY / s.value).is_file()]
    assert not missing, f"install skkdic and skkdic-extra (make setup): {missing}"
    return load_lexicon(DEFAULT_DIRECTORY, tmp_path_factory.mktemp("kana-cache"))


def typed(entry: TextEntry, reading: str) -> TextEntry:
    for letter in reading:
        assert entry.kana(letter), letter
    return entry


def choose(entry: TextEntry, word: str) -> None:
    """Page to ``word`` among the candidates and choose it."""
    for _ in range(entry.pages):
        shown = [c.text for c in entry.shown()]
        if word in shown:
            assert entry.choose(shown.index(word))
            return
        entry.next_page()
    raise AssertionError(f"{word} is not a candidate: {[c.text for c in entry.candidates()]}")


@pytest.mark.parametrize(
    ("reading", "field", "word"),
    [
        ("ちよだ", Field.ADDRESS, "千代田"),
        ("やまだ", Field.NAME, "山田"),
        ("たろう", Field.NAME, "太郎"),
        ("とうきょうと", Field.ADDRESS, "東京都"),
        ("ばんち", Field.ADDRESS, "番地"),
    ],
)
def test_a_reading_converts(lexicon: Lexicon, reading: str, field: Field, word: str) -> None:
    entry = typed(TextEntry(lexicon, field, max_length=40), reading)
    words = [c.text for c in entry.candidates()]
    assert word in words
    assert words[-2:] == [reading, katakana(reading)]  # the reading itself, always
    assert len(words) == len(set(words))


def test_names_come_first_in_a_name_field_and_places_in_an_address_field(lexicon: Lexicon) -> None:
    name = typed(TextEntry(lexicon, Field.NAME, max_length=40), "たろう")
    address = typed(TextEntry(lexicon, Field.ADDRESS, max_length=40), "たろう")
    assert [c.text for c in name.candidates()][:4] == list(lexicon.candidates("たろう", Field.NAME)[:4])
    assert "駄郎" in [c.text for c in name.candidates()]  # a name of the names dictionary only
    assert [c.text for c in address.candidates()][:2] == ["太郎", "田老"]  # the places' order


def test_an_address_typed_segment_by_segment(lexicon: Lexicon) -> None:
    entry = TextEntry(lexicon, Field.ADDRESS, max_length=40)
    for reading, word in [("とうきょうと", "東京都"), ("ちよだく", "千代田区"), ("ちよだ", "千代田")]:
        typed(entry, reading)
        choose(entry, word)
        assert entry.mode is Mode.IDLE
    entry.literal("1")
    entry.literal("番地")
    assert entry.value == entry.text == "東京都千代田区千代田1番地"


def test_an_address_typed_at_once_converts_a_segment_at_a_time(lexicon: Lexicon) -> None:
    entry = typed(TextEntry(lexicon, Field.ADDRESS, max_length=40), "とうきょうとちよだくちよだ")
    assert entry.mode is Mode.COMPOSING
    assert entry.segment == lexicon.longest_known(entry.reading) >= len("とうきょうと")
    reading, longest = entry.reading, entry.segment
    shorter = max(n for n in range(1, longest) if lexicon.knows(reading[:n]))
    assert entry.shorten() and entry.segment == shorter  # to the next known beginning at once
    assert entry.mode is Mode.CHOOSING
    assert entry.lengthen() and entry.segment == longest
    while entry.segment > len("とうきょうと"):  # the segment shortened to 東京都
        assert entry.shorten()
    choose(entry, "東京都")
    assert (entry.committed, entry.reading, entry.mode) == ("東京都", "ちよだくちよだ", Mode.COMPOSING)
    assert entry.segment == len("ちよだく")
    choose(entry, "千代田区")
    choose(entry, "千代田")
    assert entry.literal("1") and entry.literal("番地")
    assert entry.value == "東京都千代田区千代田1番地"


def test_a_name_with_a_space(lexicon: Lexicon) -> None:
    entry = typed(TextEntry(lexicon, Field.NAME, max_length=20), "やまだ")
    choose(entry, "山田")
    entry.literal(" ")
    typed(entry, "たろう")
    assert entry.text == "山田 たろう"
    choose(entry, "太郎")
    assert entry.value == "山田 太郎"


def test_a_literal_while_composing_commits_the_reading_as_typed(lexicon: Lexicon) -> None:
    entry = typed(TextEntry(lexicon, Field.NAME, max_length=20), "やまだ")
    assert entry.literal(" ")
    assert (entry.value, entry.mode) == ("やまだ ", Mode.IDLE)


def test_the_segment_and_the_pages(lexicon: Lexicon) -> None:
    entry = typed(TextEntry(lexicon, Field.ADDRESS, max_length=40, page_size=3), "かわ")
    everything = entry.candidates()
    assert len(everything) > 6 and entry.pages == -(-len(everything) // 3)
    assert entry.previous_page() is False
    assert entry.next_page() and entry.shown() == everything[3:6]
    assert entry.mode is Mode.CHOOSING
    while entry.next_page():
        pass
    assert entry.page == entry.pages - 1
    assert entry.lengthen() is False  # already the whole reading
    assert entry.shorten() and entry.segment == 1 and entry.page == 0
    assert entry.shorten() is False
    assert [c.text for c in entry.candidates()][-4:] == ["か", "カ", "かわ", "カワ"]
    entry.kana("ら")  # typing goes back to the automatic segment
    assert entry.mode is Mode.COMPOSING and entry.segment == lexicon.longest_known("かわら")


def test_backspace_removes_a_kana_while_composing_else_a_committed_character(lexicon: Lexicon) -> None:
    entry = TextEntry(lexicon, Field.NAME, max_length=20)
    assert entry.backspace() is False
    typed(entry, "やまだ")
    choose(entry, "山田")
    typed(entry, "たろ")
    assert entry.backspace() and (entry.committed, entry.reading) == ("山田", "た")
    assert entry.backspace() and (entry.text, entry.mode) == ("山田", Mode.IDLE)
    assert entry.backspace() and entry.text == "山"
    typed(entry, "か")
    entry.shorten()  # choosing: backspace still removes a kana
    assert entry.backspace() and (entry.text, entry.mode) == ("山", Mode.IDLE)


def test_clear_and_wipe_forget_everything(lexicon: Lexicon) -> None:
    entry = typed(TextEntry(lexicon, Field.NAME, max_length=20), "やまだ")
    choose(entry, "山田")
    typed(entry, "た")
    assert entry.clear()
    assert (entry.text, entry.mode, entry.segment, entry.page) == ("", Mode.IDLE, 0, 0)
    assert entry.clear() is False
    typed(entry, "たろう")
    entry.wipe()
    assert (entry.committed, entry.reading, entry.candidates()) == ("", "", [])


def test_nothing_typed_is_logged(lexicon: Lexicon, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        entry = typed(TextEntry(lexicon, Field.NAME, max_length=20), "やまだ")
        choose(entry, "山田")
        entry.literal(" ")
        typed(entry, "たろう")
        entry.shorten()
        entry.next_page()
        entry.backspace()
        entry.clear()
    assert not [r for r in caplog.records if r.name.startswith("kiosk")]


def test_nothing_goes_past_the_maximum_length(lexicon: Lexicon) -> None:
    entry = typed(TextEntry(lexicon, Field.ADDRESS, max_length=5), "ちよだく")
    assert entry.literal("番地") is False  # 4 + 2 > 5
    assert entry.kana("ち") and entry.kana("よ") is False
    assert entry.text == "ちよだくち"
    choose(entry, "千代田区")
    assert entry.text == "千代田区ち"
    entry.backspace()
    assert entry.literal("1") and entry.literal("2") is False
    assert entry.value == "千代田区1"
    long = typed(TextEntry(lexicon, Field.ADDRESS, max_length=6), "とうきょうと")
    assert all(len(c.text) <= 6 for c in long.candidates())


def test_the_keys_refuse_what_is_not_theirs() -> None:
    entry = TextEntry(Lexicon.empty(), Field.NAME, max_length=5)
    with pytest.raises(ValueError):
        entry.kana("a")
    with pytest.raises(ValueError):
        entry.literal("か")
    assert entry.literal("の") and entry.choose(0) is False and entry.shorten() is False
    with pytest.raises(ValueError):
        TextEntry(Lexicon.empty(), Field.NAME, max_length=0)
