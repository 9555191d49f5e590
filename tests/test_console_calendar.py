"""The service calendar changed through the operators' console, against its real TLS listener with
httpx, on SQLite and PostgreSQL: each part changed by an operator through its form, its review
(what a terminal is told before and after) and its save, audited with who and what; the data
format's errors next to their fields, nothing saved; a save from a calendar changed meanwhile
refused; municipal staff changing their own municipality's stops and per-type hours and nothing
else (also by editing the address or the form); an auditor changing nothing; CSRF. Then at a
running center (``koufu center serve``; on PostgreSQL two worker processes): a maintenance window
saved in the console refuses the next session in every worker with exactly the answer the
console's preview showed, and removing it lets the next one through."""

from __future__ import annotations

import datetime as dt
import html.parser
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from center.api.answers import refusal_answer
from center.audit import verify_chain
from center.calendar import Closed, ServiceCalendar
from center.calendar_store import AUDIT_EVENT, read_stored
from center.client import CenterClient
from center.config import CenterConfig
from center.enrolment import EnrolledTerminal
from center.service import refusal
from center.store.engine import make_engine
from devtools.stack import DevStack
from documents import JST
from support.backend_stack import backend_stack
from support.center_audit import lines_of
from support.console_people import Person, enrolled
from support.console_people import refusal as refused
from support.console_server import (
    BACKENDS,
    OTHER_TOWN,
    TOWN,
    ConsoleClock,
    RunningConsole,
    backend_center,
    calendar_in_force,
    calendar_stored,
    running_console,
)
from support.serving_worker import answered_by, center_workers

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan, a Tuesday
CALENDAR: dict[str, Any] = {
    "format": 1,
    "service_hours": {"opens": "06:30", "closes": "23:00"},
    "year_end_closure": {"first": "12-29", "last": "01-03"},
    "maintenance": [{"start": "2026-12-20T01:00:00+09:00", "end": "2026-12-20T05:00:00+09:00"}],
    "municipality_stops": [
        {
            "municipality": TOWN,
            "start": "2026-12-12T00:00:00+09:00",
            "end": "2026-12-13T00:00:00+09:00",
            "certificate_types": [],
        },
        {
            "municipality": OTHER_TOWN,
            "start": "2026-12-14T00:00:00+09:00",
            "end": "2026-12-15T00:00:00+09:00",
            "certificate_types": ["tax"],
        },
    ],
    "certificate_hours": [
        {
            "municipality": OTHER_TOWN,
            "certificate_type": "family_register",
            "periods": [{"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "09:00", "closes": "17:00"}],
            "closed_dates": [],
        }
    ],
    "suspensions": [],
}
WINDOW = {"start": "2026-12-24 02:00", "end": "2026-12-24 04:00"}  # a new maintenance window
NO_WORDS = {"message_ja": "", "message_en": ""}
# what the preview says of the kiosk: it shows the center's words (its own only when none came)
KIOSK_SHOWS = {
    "en": "The kiosk shows residents the words here, reopening included",
    "ja": "端末は、ここに示す文言（再開の日時を含む）を、句点を付けて住民に表示します",
}


@pytest.fixture(scope="module", params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    config = backend_center(request, tmp_path_factory, "calendar")
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


@pytest.fixture
def calendar(console: RunningConsole) -> ServiceCalendar:
    """The test begins with this calendar (stored as the command line stores it)."""
    return calendar_stored(console.config, CALENDAR, NOW)


def version(person: Person) -> str:
    found = re.search(r'data-version="([0-9a-f]+)"', person.client.get("/calendar").text)
    assert found
    return found.group(1)


def reviewed(person: Person, path: str, form: dict[str, Any], **extra: Any) -> httpx.Response:
    """The form sent for review, from the version now in force (unless ``extra`` names one)."""
    return person.change(path, {"version": version(person), "step": "review", **form, **extra})


def saved(person: Person, path: str, form: dict[str, Any]) -> httpx.Response:
    """The form reviewed then saved, as the review page posts it back."""
    review = reviewed(person, path, form)
    assert review.status_code == 200, review.text[-3000:]
    answer = person.change(path, {**hidden_fields(review.text), "step": "save"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/calendar?saved="), (
        answer.text
    )
    return answer


class _Page(html.parser.HTMLParser):
    """The review form's hidden fields, and the rows of the tables of what a terminal is told."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: list[tuple[str, str]] = []
        self.tables: dict[str, list[dict[str, str]]] = {}
        self._table: str | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "input" and found.get("type") == "hidden" and found.get("name") != "csrf":
            self.hidden.append((found["name"], found.get("value", "")))
        elif tag == "table" and "answers" in found.get("class", ""):
            self._table = found["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table and "data-step" in found:
            self.tables[self._table].append(
                {key.removeprefix("data-"): value for key, value in found.items()}
            )
        elif tag == "td" and self._table and "data-lang" in found:
            self._cell = found["data-lang"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._table and self._cell:
            row = self.tables[self._table][-1]
            row[self._cell] = row.get(self._cell, "") + data


def read_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def hidden_fields(text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in read_page(text).hidden:
        fields.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}


def field_error(page: str, field: str) -> str:
    """The error shown next to ``field`` (its input marked invalid and described by it)."""
    found = re.search(
        rf'<p class="error" id="f-{re.escape(field)}-error" data-field="[^"]*">([^<]+)</p>', page
    )
    assert found, f"no error next to {field}"
    described = re.search(rf'id="f-{re.escape(field)}"[^>]*>', page)
    assert (
        described and f"f-{field}-error" in described.group(0) and 'aria-invalid="true"' in described.group(0)
    )
    return found.group(1)


def calendar_lines(console: RunningConsole) -> list[sa.Row[tuple[object, ...]]]:
    return lines_of(console.config, AUDIT_EVENT)


# -- an operator -----------------------------------------------------------------------------------


def test_an_operator_adds_a_maintenance_window_sees_what_terminals_are_told_and_saves_it(
    console: RunningConsole, calendar: ServiceCalendar
) -> None:
    operator = enrolled(console, "operator")
    form = operator.client.get("/calendar/maintenance/new")
    assert form.status_code == 200 and f'name="version" value="{version(operator)}"' in form.text
    review = reviewed(
        operator, "/calendar/maintenance/new", {**WINDOW, **NO_WORDS}, preview_at="2026-12-24 03:00"
    )
    assert review.status_code == 200
    assert "maintenance[1] added: 2026-12-24 02:00–04:00 JST" in review.text
    page = read_page(review.text)
    (before,), (after,) = page.tables["before"], page.tables["after"]  # no municipality: the session only
    assert (before["step"], before["code"]) == ("session", "outside_service_hours")
    assert calendar == calendar_in_force(console.config)  # a review changes nothing
    for language, said in KIOSK_SHOWS.items():
        shown = reviewed(
            operator,
            f"/calendar/maintenance/new?lang={language}",
            {**WINDOW, **NO_WORDS},
            preview_at="2026-12-24 03:00",
        )
        assert said in shown.text and "自らの文言を表示し、" not in shown.text

    operator.change("/calendar/maintenance/new", {**hidden_fields(review.text), "step": "save"})
    changed = calendar_in_force(console.config)
    assert changed.maintenance[1].window.start == dt.datetime(2026, 12, 24, 2, tzinfo=JST)
    # what the review showed is what the center refuses with now, to the letter
    moment = dt.datetime(2026, 12, 24, 3, tzinfo=JST)
    decision = changed.check(moment)
    assert isinstance(decision, Closed)
    answer = refusal_answer(refusal(decision))
    assert (after["step"], after["open"], after["code"]) == ("session", "false", answer.code)
    assert (after["ja"], after["en"], after["reopens"]) == (
        answer.members["message_ja"],
        answer.members["message"],
        answer.members["reopens_at"],
    )
    assert (
        after["ja"]
        == "システムメンテナンスのため、サービスを停止しています。12月24日（木）6:30から利用できます"
    )

    overview = operator.client.get("/calendar?saved=maintenance")
    assert 'id="saved"' in overview.text and "2026-12-24 02:00:00" in overview.text
    line = calendar_lines(console)[-1]
    assert (line.outcome, line.reason, line.actor) == ("accepted", "maintenance", operator.name)
    assert line.detail == "maintenance[1] added: 2026-12-24 02:00–04:00 JST"
    assert line.detail in operator.client.get(f"/audit?event={AUDIT_EVENT}").text  # the audit page says it
    engine = make_engine(console.config.database_url)
    with engine.connect() as connection:
        assert verify_chain(connection, console.config.audit_chain_key).intact
    engine.dispose()


def test_an_operator_changes_every_part_each_change_confirmed_and_audited(
    console: RunningConsole, calendar: ServiceCalendar
) -> None:
    operator = enrolled(console, "operator")
    before = len(calendar_lines(console))
    saved(
        operator,
        "/calendar/hours",
        {"opens": "7:00", "closes": "22:30", "year_end": "", "first": "", "last": ""},
    )
    saved(
        operator,
        "/calendar/stops/1",
        {"municipality": OTHER_TOWN, "start": "2026-12-14 00:00", "end": "2026-12-14 12:00",
         "certificate_types": ["tax", "seal_registration"],
         "message_ja": "移行中です", "message_en": "Migrating"},
    )  # fmt: skip
    saved(
        operator,
        "/calendar/type-hours/new",
        {"municipality": TOWN, "certificate_type": "tax", "days-1": ["sat", "sun"], "opens-1": "10:00",
         "closes-1": "16:00", "closed_dates": "2027-01-04"},
    )  # fmt: skip
    saved(
        operator,
        "/calendar/suspensions/new",
        {"id": "town-2026-12", "since": "2026-12-26 00:00", "until": "", "municipality": TOWN,
         "certificate_type": "", **NO_WORDS},
    )  # fmt: skip
    # a removal is confirmed too: its review first, then its save
    review = operator.change(
        "/calendar/maintenance/0/remove", {"version": version(operator), "step": "review"}
    )
    assert review.status_code == 200 and "maintenance[0] removed: 2026-12-20 01:00–05:00 JST" in review.text
    assert calendar_in_force(console.config).maintenance  # not yet
    removed = operator.change(
        "/calendar/maintenance/0/remove", {**hidden_fields(review.text), "step": "save"}
    )
    assert removed.status_code == 303
    changed = calendar_in_force(console.config).to_dict()
    assert changed["service_hours"] == {"opens": "07:00", "closes": "22:30"}
    assert changed["year_end_closure"] is None and changed["maintenance"] == []
    assert changed["municipality_stops"][1]["certificate_types"] == ["seal_registration", "tax"]
    assert changed["municipality_stops"][1]["message"] == {"ja": "移行中です", "en": "Migrating"}
    assert changed["certificate_hours"][1]["periods"] == [
        {"days": ["sat", "sun"], "opens": "10:00", "closes": "16:00"}
    ]
    assert changed["suspensions"][0]["until"] is None
    lines = calendar_lines(console)[before:]
    assert [(line.outcome, line.reason, line.actor) for line in lines] == [
        ("accepted", part, operator.name)
        for part in ("service_hours", "municipality_stops", "certificate_hours", "suspensions", "maintenance")
    ]
    assert [line.detail for line in lines] == [
        "service_hours set: 7:00–22:30, no year-end closure",
        "municipality_stops[1] replaced: 271004 2026-12-14 00:00–12:00 JST, seal_registration, tax"
        " (own words)",
        "certificate_hours[1] added: 131016 tax: weekends 10:00–16:00, 1 closed dates",
        "suspensions[0] added: town-2026-12 2026-12-26 00:00 – until lifted, 131016, all types",
        "maintenance[0] removed: 2026-12-20 01:00–05:00 JST",
    ]  # times, codes and types: never the words for residents, nor anyone's name


def test_the_form_is_shown_again_from_its_review_with_what_was_typed(
    console: RunningConsole, calendar: ServiceCalendar
) -> None:
    operator = enrolled(console, "operator")
    typed = {
        "start": "2026-12-24 02:00",
        "end": "2026-12-24 04:00",
        "message_ja": "点検中",
        "message_en": "Checking",
    }
    review = reviewed(operator, "/calendar/maintenance/0", typed)
    again = operator.change("/calendar/maintenance/0", {**hidden_fields(review.text), "step": "edit"})
    assert again.status_code == 200 and 'id="calendar-form"' in again.text
    assert 'value="点検中"' in again.text and 'value="2026-12-24 04:00"' in again.text


# -- what the calendar's rules refuse ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "form", "field", "words"),
    [
        ("/calendar/maintenance/new", {"start": "2026-12-24 02:00", "end": "2026-12-24 01:00"}, "end",
         "a window must start"),
        ("/calendar/maintenance/new", {"start": "tomorrow", "end": ""}, "start", "2026-12-20 01:00"),
        ("/calendar/maintenance/new", {"start": "2026-02-30 02:00", "end": "2026-03-01 01:00"}, "start",
         "day is out of range"),
        ("/calendar/stops/new", {"municipality": "131017", "start": "2026-12-24 02:00",
         "end": "2026-12-24 04:00"}, "municipality", "check digit"),
        ("/calendar/type-hours/new", {"municipality": OTHER_TOWN, "certificate_type": "family_register",
         "days-1": ["sat"], "opens-1": "09:00", "closes-1": "12:00"}, "certificate_type", "given twice"),
        ("/calendar/type-hours/0", {"municipality": OTHER_TOWN, "certificate_type": "family_register",
         "days-1": ["sat"], "opens-1": "09:00", "closes-1": "12:00", "days-2": ["sun"], "opens-2": "12:00",
         "closes-2": "11:00"}, "closes-2", "must be before"),
        ("/calendar/suspensions/new", {"id": "x", "since": "2026-12-24 02:00", "message_ja": "停止中"},
         "message_en", "both languages"),
        ("/calendar/hours", {"opens": "23:00", "closes": "22:00", "year_end": "on", "first": "12-29",
         "last": "01-03"}, "closes", "must be before"),
        ("/calendar/hours", {"opens": "06:30", "closes": "23:00", "year_end": "on", "first": "02-30",
         "last": "01-03"}, "first", "day is out of range"),
    ],
)  # fmt: skip
def test_what_the_calendar_s_rules_refuse_is_said_next_to_its_field_and_nothing_is_saved(
    console: RunningConsole,
    calendar: ServiceCalendar,
    path: str,
    form: dict[str, Any],
    field: str,
    words: str,
) -> None:
    operator = enrolled(console, "operator")
    before, lines = version(operator), len(calendar_lines(console))
    japanese = reviewed(operator, f"{path}?lang=ja", form)
    assert refused(japanese) == (400, "invalid_calendar")
    assert re.search("[ぁ-んァ-ヶ一-龠]", field_error(japanese.text, field))  # said in Japanese
    for step in ("review", "save"):  # a save is checked again, whatever its review said
        answer = reviewed(operator, f"{path}?lang=en", form, step=step)
        assert refused(answer) == (400, "invalid_calendar")
        assert words in field_error(answer.text, field)
        assert f'<a href="#f-{field}">' in answer.text  # the summary leads to the field
    assert version(operator) == before and len(calendar_lines(console)) == lines


# -- two people at once -----------------------------------------------------------------------------


def test_a_save_from_a_calendar_changed_meanwhile_is_refused_and_overwrites_nothing(
    console: RunningConsole,
    calendar: ServiceCalendar,
) -> None:
    first, second = enrolled(console, "operator"), enrolled(console, "operator")
    opened = version(first)
    assert version(second) == opened  # both open a form of the same calendar
    theirs = second.change(
        "/calendar/maintenance/new", {"version": opened, "step": "review", **WINDOW, **NO_WORDS}
    )
    mine = {"start": "2026-12-25 02:00", "end": "2026-12-25 03:00", **NO_WORDS}
    saved(first, "/calendar/maintenance/new", mine)
    lines = len(calendar_lines(console))

    # the second reviews again, or saves the review they had: both refused, nothing written
    stale = second.change(
        "/calendar/maintenance/new", {"version": opened, "step": "review", **WINDOW, **NO_WORDS}
    )
    assert refused(stale) == (409, "calendar_changed") and first.name in stale.text
    late = second.change("/calendar/maintenance/new", {**hidden_fields(theirs.text), "step": "save"})
    assert refused(late) == (409, "calendar_changed")
    assert f"maintenance added, made from version {opened}" in late.text  # what was not saved
    assert 'data-field="end">2026-12-24 04:00<' in late.text  # and what they typed, to do it again
    windows = [m.window.start.astimezone(JST).day for m in calendar_in_force(console.config).maintenance]
    assert windows == [20, 25]  # the first's saved, the second's not, nothing overwritten
    line = calendar_lines(console)[-1]
    assert len(calendar_lines(console)) == lines + 1  # the refused save, not the review
    assert (line.outcome, line.reason, line.actor) == ("refused", "calendar_changed", second.name)
    # an entry's number is its version's: one removed meanwhile is a stale form, not a missing entry
    gone = second.change("/calendar/maintenance/5/remove", {"version": opened, "step": "review"})
    assert refused(gone) == (409, "calendar_changed")
    assert refused(second.client.get("/calendar/maintenance/5")) == (404, "not_found")

    # the command line's replacement makes every open form stale too
    current = version(first)
    calendar_stored(console.config, {**CALENDAR, "maintenance": []}, NOW)
    answer = first.change(
        "/calendar/maintenance/new", {"version": current, "step": "save", **WINDOW, **NO_WORDS}
    )
    assert refused(answer) == (409, "calendar_changed")
    assert calendar_in_force(console.config).maintenance == ()


# -- municipal staff, auditors, CSRF ------------------------------------------------------------------


def test_municipal_staff_change_their_own_stops_and_hours_and_nothing_else(
    console: RunningConsole, calendar: ServiceCalendar
) -> None:
    staff = enrolled(console, "municipal", TOWN)
    lines = len(calendar_lines(console))
    stop = {"start": "2026-12-26 00:00", "end": "2026-12-26 12:00", "certificate_types": ["tax"], **NO_WORDS}
    saved(staff, "/calendar/stops/new", stop)  # no municipality given: their own
    saved(staff, "/calendar/stops/0", {**stop, "municipality": TOWN, "end": "2026-12-26 18:00"})
    saved(
        staff,
        "/calendar/type-hours/new",
        {"certificate_type": "family_register", "days-1": ["mon"], "opens-1": "9:00", "closes-1": "12:00"},
    )
    changed = calendar_in_force(console.config)
    assert [stop.municipality for stop in changed.municipality_stops] == [TOWN, OTHER_TOWN, TOWN]
    assert changed.certificate_hours[1].municipality == TOWN
    assert {line.actor for line in calendar_lines(console)[lines:]} == {staff.name}

    elsewhere = {**stop, "municipality": OTHER_TOWN}
    hours = {"certificate_type": "tax", "days-1": ["mon"], "opens-1": "9:00", "closes-1": "12:00"}
    for path, form in (
        ("/calendar/stops/new", elsewhere),  # the form edited to name another municipality
        ("/calendar/stops/0", elsewhere),  # their own stop moved to another municipality
        ("/calendar/stops/1", {**stop, "municipality": TOWN}),  # another's stop taken over
        ("/calendar/stops/1/remove", {}),
        ("/calendar/type-hours/new", {**hours, "municipality": OTHER_TOWN}),
        ("/calendar/type-hours/0", {**hours, "municipality": TOWN}),
        ("/calendar/type-hours/0/remove", {}),
        ("/calendar/stops/9", stop),  # no such entry
    ):
        for step in ("review", "save"):
            assert refused(reviewed(staff, path, form, step=step)) == (404, "not_found"), (path, step)
    for path in ("/calendar/stops/1", "/calendar/type-hours/0", "/calendar/stops/9", "/calendar/nothing/new"):
        assert refused(staff.client.get(path)) == (404, "not_found"), path
    national = {"start": "2026-12-24 02:00", "end": "2026-12-24 04:00", **NO_WORDS}
    parts: tuple[tuple[str, dict[str, Any]], ...] = (
        ("/calendar/hours", {"opens": "00:00", "closes": "24:00", "year_end": ""}),
        ("/calendar/maintenance/new", national),
        ("/calendar/maintenance/0/remove", {}),
        ("/calendar/suspensions/new", {"id": "mine", "since": "2026-12-24 02:00", "municipality": TOWN}),
    )
    for path, form in parts:
        assert refused(staff.client.get(path.removesuffix("/remove"))) == (403, "not_allowed"), path
        assert refused(reviewed(staff, path, form, step="save")) == (403, "not_allowed"), path
    assert calendar_in_force(console.config) == changed  # nothing of theirs changed anything else
    page = staff.client.get("/calendar").text
    assert OTHER_TOWN not in page and 'id="edit-hours"' not in page and 'id="add-maintenance"' not in page
    assert 'id="add-stops"' in page and 'id="edit-stops-0"' in page and 'id="remove-type-hours-1"' in page


def test_an_auditor_reads_the_calendar_and_changes_nothing(
    console: RunningConsole, calendar: ServiceCalendar
) -> None:
    auditor = enrolled(console, "auditor")
    page = auditor.client.get("/calendar")
    assert page.status_code == 200 and OTHER_TOWN in page.text
    assert "/remove" not in page.text and 'id="add-' not in page.text and 'id="edit-' not in page.text
    for path in (
        "/calendar/hours",
        "/calendar/maintenance/new",
        "/calendar/stops/0",
        "/calendar/type-hours/0",
    ):
        assert refused(auditor.client.get(path)) == (403, "not_allowed"), path
    for path in (
        "/calendar/hours",
        "/calendar/maintenance/new",
        "/calendar/stops/0",
        "/calendar/stops/0/remove",
    ):
        for step in ("review", "save"):
            answer = auditor.change(path, {"version": version(auditor), "step": step, **WINDOW})
            assert refused(answer) == (403, "not_allowed"), path
    assert calendar_in_force(console.config) == calendar


def test_a_change_without_the_session_s_csrf_token_or_from_elsewhere_is_refused(
    console: RunningConsole, calendar: ServiceCalendar
) -> None:
    operator = enrolled(console, "operator")
    form = {"version": version(operator), "step": "save", **WINDOW, **NO_WORDS}
    post = operator.client.post
    assert refused(post("/calendar/maintenance/new", data=form)) == (403, "csrf_refused")
    assert refused(post("/calendar/maintenance/new", data={**form, "csrf": "x" * 43})) == (
        403,
        "csrf_refused",
    )
    elsewhere = {"origin": "https://evil.example"}
    assert refused(
        post("/calendar/maintenance/new", data={**form, "csrf": operator.csrf}, headers=elsewhere)
    ) == (
        403,
        "cross_origin",
    )
    assert refused(post("/calendar/maintenance/0/remove", data={**form, "step": "save"})) == (
        403,
        "csrf_refused",
    )
    assert calendar_in_force(console.config) == calendar


def test_the_calendar_page_previews_any_moment_for_a_municipality_and_a_certificate(
    console: RunningConsole,
    calendar: ServiceCalendar,
) -> None:
    operator, staff = enrolled(console, "operator"), enrolled(console, "municipal", TOWN)
    page = read_page(operator.client.get("/calendar?at=2026-12-20+02:00").text)
    assert [(row["step"], row["code"]) for row in page.tables["answers"]] == [("session", "maintenance")]
    asked = f"/calendar?at=2026-12-14+10:00&municipality={OTHER_TOWN}&type=tax"
    rows = read_page(operator.client.get(asked).text).tables["answers"]
    assert [(row["step"], row["code"]) for row in rows] == [
        ("session", ""),
        ("resident", ""),
        ("certificate", "municipality_stop"),
    ]
    assert (
        rows[-1]["ja"]
        == "この市区町村の証明書は、現在交付を停止しています。12月15日（火）6:30から利用できます"
    )
    assert refused(staff.client.get(asked)) == (404, "not_found")
    rows = read_page(staff.client.get("/calendar?at=2026-12-12+10:00&type=tax").text).tables["answers"]
    assert [row["code"] for row in rows] == ["", "municipality_stop"]  # their own municipality
    for language, said in KIOSK_SHOWS.items():  # the kiosk shows these words (docs/kiosk.md)
        assert said in operator.client.get(f"/calendar?lang={language}").text
    assert refused(operator.client.get("/calendar?at=soon")) == (400, "bad_moment")
    assert refused(operator.client.get("/calendar?type=passport")) == (400, "bad_certificate_type")


# -- a running center -----------------------------------------------------------------------------------

TAKES_EFFECT = 30.0  # seconds a saved calendar may take to reach every worker (they re-read it every 5 s)


@pytest.fixture(scope="module", params=BACKENDS)
def center(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    workers = 2 if request.param == "postgresql" else 1
    with backend_stack(request, tmp_path_factory, "calendar-center", workers=workers) as stack:
        yield stack


def sessions_in_every_worker(
    stack: DevStack, terminal: EnrolledTerminal, workers: set[int], status: int
) -> list[httpx.Response]:
    """New sessions asked for on new connections until every worker has answered ``status`` (the
    answers before that, from a worker that had not read the calendar yet, are left out)."""
    answered: dict[int, httpx.Response] = {}
    deadline = time.monotonic() + TAKES_EFFECT
    while set(answered) != workers:
        assert time.monotonic() < deadline, f"not every worker answered {status}: {sorted(answered)}"
        client: CenterClient = stack.client(terminal)
        try:
            response = client.request("POST", "/v1/sessions")
            if response.status_code == status:
                answered.setdefault(answered_by(response, workers), response)
        finally:
            client.close()
    return list(answered.values())


def test_a_window_saved_in_the_console_refuses_the_next_session_in_every_worker_as_previewed(
    center: DevStack,
) -> None:
    assert center.center_process is not None
    workers = center_workers(center.center_process.pid)
    multi = CenterConfig.load(center.center_dir).topology == "multi"
    assert len(workers) == (2 if multi else 1)
    terminal = center.enroll("T-CAL1")
    assert sessions_in_every_worker(center, terminal, workers, 201)  # open everywhere
    now = dt.datetime.now(JST).replace(second=0, microsecond=0)
    config = CenterConfig.load(center.center_dir)
    with running_console(config, ConsoleClock(now)) as console:
        operator = enrolled(console, "operator")
        window = {
            "start": f"{now - dt.timedelta(hours=1):%Y-%m-%d %H:%M}",
            "end": f"{now + dt.timedelta(hours=2):%Y-%m-%d %H:%M}",
        }
        review = reviewed(
            operator, "/calendar/maintenance/new", {**window, **NO_WORDS}, preview_at=f"{now:%Y-%m-%d %H:%M}"
        )
        (shown,) = read_page(review.text).tables["after"]
        operator.change("/calendar/maintenance/new", {**hidden_fields(review.text), "step": "save"})
        for response in sessions_in_every_worker(center, terminal, workers, 403):
            assert response.json() == {
                "error": shown["code"],
                "message": shown["en"],
                "message_ja": shown["ja"],
                "reopens_at": shown["reopens"],
            }  # exactly what the console's preview said the center would answer
        assert shown["code"] == "maintenance"

        removal = operator.change(
            "/calendar/maintenance/0/remove", {"version": version(operator), "step": "review"}
        )
        operator.change("/calendar/maintenance/0/remove", {**hidden_fields(removal.text), "step": "save"})
        assert sessions_in_every_worker(center, terminal, workers, 201)  # and open again everywhere
        engine = make_engine(config.database_url)
        try:
            with engine.connect() as connection:
                assert read_stored(connection).calendar.maintenance == ()
        finally:
            engine.dispose()
