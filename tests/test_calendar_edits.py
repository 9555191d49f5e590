"""Changing the service calendar one entry at a time, without a server: the changes
(``center.calendar_edits``: checked by the data format's own rules, their municipalities and their
audit line), the console's forms (``center.console.calendar_forms``: the fields to the format and
back, the format's errors put next to the field they name), the preview of what a terminal is
answered (``center.api.calendar_preview``: the center's own refusals, step by step), who may
change what, and the save that refuses a stale version (``center.calendar_store``) on SQLite and
PostgreSQL; and the command line's load, audited too."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from center.api.answers import refusal_answer
from center.api.calendar_preview import Step, preview
from center.audit import AuditWriter, verify_chain
from center.calendar import Closed, ServiceCalendar
from center.calendar_edits import DETAIL_LENGTH, CalendarEdit, EntryUnknown, Section
from center.calendar_format import CalendarDataError
from center.calendar_store import (
    AUDIT_EVENT,
    CalendarChanged,
    StoredCalendar,
    load_calendar,
    read_stored,
    replace_calendar,
    store_calendar,
)
from center.console import calendar_forms as forms
from center.console.errors import NotAllowed, OutOfScope
from center.console.roles import Scope
from center.service import refusal
from center.store.driver import Database
from center.store.engine import make_engine, migrate
from center.store.tables import audit_log
from documents import JST
from koufu.cli import main as koufu
from support.console_server import center_directory

CHIYODA, SAPPORO, OSAKA = "131016", "011002", "271004"
NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan, a Tuesday
KEY = b"k" * 32
DATA: dict[str, Any] = {
    "format": 1,
    "service_hours": {"opens": "06:30", "closes": "23:00"},
    "year_end_closure": {"first": "12-29", "last": "01-03"},
    "maintenance": [{"start": "2026-12-20T01:00:00+09:00", "end": "2026-12-20T05:00:00+09:00"}],
    "municipality_stops": [
        {
            "municipality": CHIYODA,
            "start": "2026-12-12T00:00:00+09:00",
            "end": "2026-12-13T00:00:00+09:00",
            "certificate_types": ["tax"],
            "message": {"ja": "システム移行のため停止しています", "en": "Stopped for a system migration"},
        },
        {
            "municipality": OSAKA,
            "start": "2026-12-14T00:00:00+09:00",
            "end": "2026-12-15T00:00:00+09:00",
            "certificate_types": [],
        },
    ],
    "certificate_hours": [
        {
            "municipality": CHIYODA,
            "certificate_type": "family_register",
            "periods": [{"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "09:00", "closes": "17:00"}],
            "closed_dates": ["2026-12-28"],
        }
    ],
    "suspensions": [
        {
            "id": "osaka-2026-12",
            "since": "2026-12-16T10:00:00+09:00",
            "until": "2026-12-16T15:00:00+09:00",
            "municipality": OSAKA,
            "certificate_type": None,
        }
    ],
}
CALENDAR = ServiceCalendar.from_dict(DATA)


def jst(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


# -- changes -------------------------------------------------------------------------------------


def test_an_entry_is_added_replaced_and_removed_and_each_change_describes_itself() -> None:
    window = {"start": "2026-12-24T02:00:00+09:00", "end": "2026-12-24T04:30:00+09:00"}
    added = CalendarEdit(Section.MAINTENANCE, None, window)
    after = added.apply(CALENDAR)
    assert after.to_dict()["maintenance"] == [*DATA["maintenance"], window]
    assert added.describe(CALENDAR, after) == "maintenance[1] added: 2026-12-24 02:00–04:30 JST"
    assert added.municipalities(CALENDAR, after) == {None}

    moved = {**DATA["municipality_stops"][0], "end": "2026-12-13T12:00:00+09:00"}
    replaced = CalendarEdit(Section.MUNICIPALITY_STOPS, 0, moved)
    after = replaced.apply(CALENDAR)
    assert after.to_dict()["municipality_stops"] == [moved, DATA["municipality_stops"][1]]
    assert replaced.describe(CALENDAR, after) == (
        "municipality_stops[0] replaced: 131016 2026-12-12 00:00–2026-12-13 12:00 JST, tax (own words)"
    )  # never the words themselves: they may say anything
    assert replaced.municipalities(CALENDAR, after) == {CHIYODA}

    removed = CalendarEdit(Section.SUSPENSIONS, 0, None)
    after = removed.apply(CALENDAR)
    assert after.suspensions == ()
    assert removed.describe(CALENDAR, after) == (
        "suspensions[0] removed: osaka-2026-12 2026-12-16 10:00 – 2026-12-16 15:00, 271004, all types"
    )
    assert removed.municipalities(CALENDAR, after) == {OSAKA}

    hours = {"service_hours": {"opens": "07:00", "closes": "22:00"}, "year_end_closure": None}
    national = CalendarEdit(Section.HOURS, None, hours)
    after = national.apply(CALENDAR)
    assert (after.to_dict()["service_hours"], after.year_end) == (hours["service_hours"], None)
    assert national.describe(CALENDAR, after) == "service_hours set: 7:00–22:00, no year-end closure"
    assert national.municipalities(CALENDAR, after) == {None}
    assert ServiceCalendar.from_dict(DATA) == CALENDAR  # a change makes a new calendar


def test_a_change_moving_an_entry_to_another_municipality_concerns_both() -> None:
    elsewhere = {**DATA["certificate_hours"][0], "municipality": SAPPORO}
    change = CalendarEdit(Section.CERTIFICATE_HOURS, 0, elsewhere)
    assert change.municipalities(CALENDAR, change.apply(CALENDAR)) == {CHIYODA, SAPPORO}


def test_an_entry_that_is_not_there_cannot_be_changed_and_a_change_must_say_what() -> None:
    for index in (1, 7):
        with pytest.raises(EntryUnknown):
            CalendarEdit(Section.SUSPENSIONS, index, None).apply(CALENDAR)
    with pytest.raises(ValueError):
        CalendarEdit(Section.MAINTENANCE, None, None)
    with pytest.raises(ValueError):
        CalendarEdit(Section.HOURS, 0, {"service_hours": {}, "year_end_closure": None})


def test_a_description_fits_the_audit_log() -> None:
    many = {**DATA["certificate_hours"][0]}
    many["periods"] = [{"days": [day], "opens": "09:00", "closes": "17:00"} for day in forms.WEEKDAYS]
    change = CalendarEdit(Section.CERTIFICATE_HOURS, 0, many)
    line = change.describe(CALENDAR, change.apply(CALENDAR))
    assert len(line) == DETAIL_LENGTH and line.endswith("…")


@pytest.mark.parametrize(
    ("section", "index", "item", "where"),
    [
        (Section.MAINTENANCE, None, {"start": "2026-12-24T02:00+09:00", "end": "2026-12-24T01:00+09:00"},
         "calendar.maintenance[1].end"),
        (Section.MUNICIPALITY_STOPS, 1, {**DATA["municipality_stops"][1], "municipality": "271005"},
         "calendar.municipality_stops[1].municipality"),
        (Section.CERTIFICATE_HOURS, None, DATA["certificate_hours"][0],
         "calendar.certificate_hours[1].certificate_type"),
        (Section.SUSPENSIONS, None, {**DATA["suspensions"][0]}, "calendar.suspensions[1].id"),
        (Section.HOURS, None, {"service_hours": {"opens": "23:00", "closes": "22:00"},
                               "year_end_closure": None}, "calendar.service_hours.closes"),
    ],
)  # fmt: skip
def test_a_change_is_checked_by_the_data_format_at_its_own_place(
    section: Section, index: int | None, item: dict[str, Any], where: str
) -> None:
    change = CalendarEdit(section, index, item)
    with pytest.raises(CalendarDataError) as refused:
        change.apply(CALENDAR)
    assert refused.value.where == where
    assert refused.value.where.startswith(change.place(CALENDAR))


# -- the forms -------------------------------------------------------------------------------------


@pytest.mark.parametrize("section", [section for section in Section if section.listed])
def test_every_entry_is_shown_in_its_form_and_the_form_makes_it_again(section: Section) -> None:
    for entry in DATA[section.value]:
        made = forms.item_of(section, forms.values_from(section, entry))
        assert made.errors == {}
        change = CalendarEdit(section, 0, made.item)
        assert change.apply(CALENDAR).to_dict()[section.value][0] == entry


def test_the_national_hours_are_shown_in_their_form_and_made_again() -> None:
    values = forms.values_from(Section.HOURS, DATA)
    assert values["opens"] == "06:30" and values["year_end"] == "on" and values["first"] == "12-29"
    made = forms.item_of(Section.HOURS, values)
    assert made.item == {"service_hours": DATA["service_hours"], "year_end_closure": DATA["year_end_closure"]}
    made = forms.item_of(Section.HOURS, {**values, "year_end": "", "opens": "7:00", "closes": "24:00"})
    assert made.item == {"service_hours": {"opens": "07:00", "closes": "24:00"}, "year_end_closure": None}


def test_a_form_takes_values_as_people_type_them() -> None:
    made = forms.item_of(
        Section.MUNICIPALITY_STOPS,
        {
            "municipality": CHIYODA,
            "start": "2026-12-20T01:00",
            "end": "2026-12-20 05:30:15",
            "certificate_types": ["tax", "seal_registration"],
            "message_ja": "",
            "message_en": "",
        },
    )
    assert made.item == {
        "municipality": CHIYODA,
        "start": "2026-12-20T01:00:00+09:00",
        "end": "2026-12-20T05:30:15+09:00",
        "certificate_types": ["tax", "seal_registration"],
    }
    blank_rows = {f"{part}-{row}": "" for part in ("opens", "closes") for row in (2, 3)}
    made = forms.item_of(
        Section.CERTIFICATE_HOURS,
        {
            "municipality": CHIYODA,
            "certificate_type": "tax",
            "days-1": ["sat"],
            "opens-1": "9:00",
            "closes-1": "12:00",
            "days-2": [],
            "days-3": ["sun"],
            "opens-3": "10:00",
            "closes-3": "11:00",
            "closed_dates": "2026-12-28\n2026-12-29, 2027-01-04",
            **{key: value for key, value in blank_rows.items() if not key.endswith("3")},
        },
    )
    assert made.item is not None and made.rows == (1, 3)  # the blank second row is left out
    assert made.item["periods"] == [
        {"days": ["sat"], "opens": "09:00", "closes": "12:00"},
        {"days": ["sun"], "opens": "10:00", "closes": "11:00"},
    ]
    assert made.item["closed_dates"] == ["2026-12-28", "2026-12-29", "2027-01-04"]


def test_a_field_not_even_of_its_shape_is_refused_in_both_languages_before_the_format_is_asked() -> None:
    made = forms.item_of(
        Section.SUSPENSIONS,
        {"id": "山田さんの停止", "since": "20 December", "until": "", "municipality": "13101",
         "certificate_type": "", "message_ja": "停止中", "message_en": ""},
    )  # fmt: skip
    assert made.item is None
    assert set(made.errors) == {"id", "since", "municipality", "message_en"}
    assert all(ja != en and ja and en for ja, en in made.errors.values())
    made = forms.item_of(Section.MAINTENANCE, {"start": "", "end": "", "message_ja": "", "message_en": ""})
    assert made.errors == {"start": forms._MISSING, "end": forms._MISSING}
    long = "停" * (forms.WORDS_LENGTH + 1)
    made = forms.item_of(
        Section.MAINTENANCE,
        {"start": "2026-12-20 01:00", "end": "2026-12-20 02:00", "message_ja": long, "message_en": "x"},
    )
    assert set(made.errors) == {"message_ja"}
    assert forms.WORDS_LENGTH == 160  # what a kiosk's screen shows in a few lines, as the data format
    for words in ("<b>点検中</b>", "点検中\r\n明朝再開", "点検中\u202e"):
        made = forms.item_of(
            Section.MAINTENANCE,
            {"start": "2026-12-20 01:00", "end": "2026-12-20 02:00", "message_ja": words, "message_en": "x"},
        )
        assert made.errors == {"message_ja": forms._PLAIN}
    made = forms.item_of(
        Section.MAINTENANCE,
        {"start": "2026-12-20 01:00", "end": "2026-12-20 02:00", "message_ja": "停" * 160, "message_en": "x"},
    )
    assert made.errors == {} and made.item is not None
    hours = forms.item_of(
        Section.CERTIFICATE_HOURS, {**forms.blank(Section.CERTIFICATE_HOURS), "days-2": ["mon"]}
    )
    assert {
        "municipality",
        "certificate_type",
        "days-1",
        "opens-1",
        "closes-1",
        "opens-2",
        "closes-2",
    } == set(hours.errors)


@pytest.mark.parametrize(
    ("section", "where", "field"),
    [
        (Section.MAINTENANCE, "calendar.maintenance[1].end", "end"),
        (Section.MAINTENANCE, "calendar.maintenance[1].message.ja", "message_ja"),
        (Section.MAINTENANCE, "calendar.maintenance[0].end", ""),  # another entry's
        (Section.MAINTENANCE, "calendar", ""),
        (Section.MAINTENANCE, "calendar.maintenance[1].municipality", ""),  # not a field of its form
        (Section.MUNICIPALITY_STOPS, "calendar.maintenance[1].certificate_types", "certificate_types"),
        (Section.CERTIFICATE_HOURS, "calendar.maintenance[1].periods[1].closes", "closes-3"),
        (Section.CERTIFICATE_HOURS, "calendar.maintenance[1].periods[0].days", "days-1"),
        (Section.CERTIFICATE_HOURS, "calendar.maintenance[1].periods", "days-1"),
        (Section.CERTIFICATE_HOURS, "calendar.maintenance[1].closed_dates[4]", "closed_dates"),
        (Section.HOURS, "calendar.service_hours.closes", "closes"),
        (Section.HOURS, "calendar.year_end_closure.first", "first"),
        (Section.HOURS, "calendar.maintenance[0].end", ""),
    ],
)
def test_the_format_s_error_goes_next_to_the_field_it_names(section: Section, where: str, field: str) -> None:
    assert forms.field_of(section, where, "calendar.maintenance[1]", (1, 3)) == field


def test_every_field_has_a_label_in_both_languages_and_a_unique_name() -> None:
    for section, fields in forms.FORMS.items():
        names = [field.name for field in fields]
        assert len(names) == len(set(names)), section
        assert all(field.label[0] and field.label[1] and field.label[0] != field.label[1] for field in fields)
        assert set(forms.blank(section)) == set(names)


# -- who may change what ------------------------------------------------------------------------


def test_municipal_staff_change_only_their_own_municipality_alone() -> None:
    center, town = Scope(None), Scope(CHIYODA)
    center.may_change([None, OSAKA, CHIYODA])
    town.may_change([CHIYODA])
    with pytest.raises(NotAllowed):
        town.may_change([None])
    with pytest.raises(OutOfScope):
        town.may_change([CHIYODA, OSAKA])
    with pytest.raises(OutOfScope):
        town.may_change([None, OSAKA])


# -- the preview ------------------------------------------------------------------------------------


def test_the_preview_is_the_center_s_own_answer_step_by_step_up_to_the_first_refusal() -> None:
    # 2026-12-20 02:00: the maintenance window; the session is refused, nothing after it asked
    (session,) = preview(CALENDAR, jst("2026-12-20T02:00"), CHIYODA, "tax")
    decision = CALENDAR.check(jst("2026-12-20T02:00"))
    assert isinstance(decision, Closed) and session.step is Step.SESSION and not session.open
    answer = refusal_answer(refusal(decision))
    assert (session.status, session.code) == (403, "maintenance") == (answer.status, answer.code)
    assert session.body == {
        "error": "maintenance",
        "message": decision.message_en,
        "message_ja": decision.message_ja,
        "reopens_at": "2026-12-20T06:30:00+09:00",
    }
    assert session.message_ja == decision.message_ja and session.reopens_at == "2026-12-20T06:30:00+09:00"

    # 2026-12-12 10:00: Chiyoda stopped its tax certificates: the card passes, the type is closed
    answers = preview(CALENDAR, jst("2026-12-12T10:00"), CHIYODA, "tax")
    assert [(a.step, a.open) for a in answers] == [
        (Step.SESSION, True),
        (Step.RESIDENT, True),
        (Step.CERTIFICATE, False),
    ]
    closed = CALENDAR.check(jst("2026-12-12T10:00"), CHIYODA, "tax")
    assert isinstance(closed, Closed)
    assert (answers[2].code, answers[2].message_ja, answers[2].message_en) == (
        "municipality_stop",
        closed.message_ja,
        closed.message_en,
    )
    assert answers[2].message_ja.startswith("システム移行のため停止しています。")
    assert answers[2].status is None and answers[2].body is None  # a list entry, not a refusal

    # Osaka's suspension refuses the card; without a municipality only the session is asked
    answers = preview(CALENDAR, jst("2026-12-16T11:00"), OSAKA, "tax")
    assert [(a.step, a.code) for a in answers] == [(Step.SESSION, None), (Step.RESIDENT, "suspended")]
    assert len(preview(CALENDAR, jst("2026-12-16T11:00"))) == 1
    # family-register certificates in Chiyoda on a Saturday: outside the type's hours
    answers = preview(CALENDAR, jst("2026-12-19T10:00"), CHIYODA, "family_register")
    assert answers[-1].code == "certificate_hours" and "平日 9:00〜17:00" in (answers[-1].message_ja or "")


# -- the stored calendar, and a save from a stale version ---------------------------------------------


def test_a_save_from_the_version_read_is_stored_and_one_from_a_stale_version_is_refused(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        never = read_stored(connection)
    assert never.document is None and never.calendar == ServiceCalendar.default()
    assert never.version == StoredCalendar(CALENDAR, None, None).version  # nothing stored, one version
    window = {"start": "2026-12-24T02:00:00+09:00", "end": "2026-12-24T03:00:00+09:00"}
    added = CalendarEdit(Section.MAINTENANCE, None, window)
    first, other = added.apply(never.calendar), CALENDAR

    async def save(read: StoredCalendar, calendar: ServiceCalendar, actor: str) -> None:
        database = Database(database_url)
        writer = AuditWriter(database, KEY)
        try:
            await replace_calendar(
                writer, read, calendar, actor=actor, reason="maintenance", detail="d", now=NOW
            )
        finally:
            await writer.close()
            await database.close()

    asyncio.run(save(never, first, "sato"))  # the first ever save
    with pytest.raises(CalendarChanged):  # another made from the same reading: refused
        asyncio.run(save(never, other, "suzuki"))
    with engine.connect() as connection:
        stored = read_stored(connection)
        assert stored.calendar == first and stored.version != never.version
        assert stored.updated_at == NOW
    asyncio.run(save(stored, other, "suzuki"))  # from the version stored: saved
    with pytest.raises(CalendarChanged):
        asyncio.run(save(stored, first, "sato"))
    with engine.begin() as connection:
        assert load_calendar(connection) == other
        lines = connection.execute(
            sa.select(audit_log.c.outcome, audit_log.c.reason, audit_log.c.actor)
            .where(audit_log.c.event == AUDIT_EVENT)
            .order_by(audit_log.c.seq)
        ).all()
        assert [tuple(line) for line in lines] == [
            ("accepted", "maintenance", "sato"),
            ("refused", "calendar_changed", "suzuki"),
            ("accepted", "maintenance", "suzuki"),
            ("refused", "calendar_changed", "sato"),
        ]
        assert verify_chain(connection, KEY).intact
        # the command line's replacement is another version too
        store_calendar(connection, ServiceCalendar.default(), NOW)
        assert read_stored(connection).version not in (stored.version, never.version)
        assert json.loads(read_stored(connection).document or "") == ServiceCalendar.default().to_dict()
    engine.dispose()


def test_the_command_line_loads_the_whole_calendar_with_its_audit_line_and_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "center"
    config = center_directory(directory, None)
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(DATA), encoding="utf-8")
    assert koufu(["center", "calendar", "load", str(path), "--dir", str(directory)]) == 0
    assert "calendar stored" in capsys.readouterr().out
    assert koufu(["center", "calendar", "show", "--dir", str(directory)]) == 0
    assert ServiceCalendar.from_dict(json.loads(capsys.readouterr().out)) == CALENDAR
    wrong = {
        **DATA,
        "maintenance": [{"start": "2026-12-24T02:00:00+09:00", "end": "2026-12-24T01:00:00+09:00"}],
    }
    path.write_text(json.dumps(wrong), encoding="utf-8")
    assert koufu(["center", "calendar", "load", str(path), "--dir", str(directory)]) != 0
    assert "calendar.maintenance[0].end: a window must start" in capsys.readouterr().err
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            assert load_calendar(connection) == CALENDAR  # the wrong file changed nothing
            lines = connection.execute(sa.select(audit_log).where(audit_log.c.event == AUDIT_EVENT)).all()
            assert verify_chain(connection, config.audit_chain_key).intact
    finally:
        engine.dispose()
    assert [(line.outcome, line.reason, line.detail) for line in lines] == [
        ("accepted", "calendar", "the whole calendar loaded from a file")
    ]
    assert str(lines[0].actor).startswith("cli:")
