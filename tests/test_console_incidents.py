"""The console's Incidents page (交付停止) against its real TLS listener, with httpx, on SQLite and
PostgreSQL: an operator reviews a stop (what it will refuse, nothing set yet), sets it and lifts
it, of each scope; what is typed wrong is said next to its field and nothing is set; municipal
staff stop and lift only their own municipality's stops and see only the stops that concern them
(a form or an address edited to reach further is refused); an auditor reads and changes nothing;
a change without the session's CSRF token is refused. The stop names the console account, and so
does its audit line. People sign in with a software passkey (``support.console_people``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape

from center.console.pages.incidents import PROBLEM_WORDS
from center.store.engine import make_engine
from center.store.tables import issuance_stops
from support.center_audit import lines_of
from support.console_people import (
    enrolled,
    lift_through_the_page,
    refusal,
    stop_through_the_page,
)
from support.console_people import (
    stop_form as form,
)
from support.console_server import (
    BACKENDS,
    OTHER_TOWN,
    TOWN,
    ConsoleClock,
    RunningConsole,
    backend_center,
    running_console,
)
from support.issuance_stops import EN, JA

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
TERMINAL, STORE = "T-0001", "ファミリーマート 千代田一番町店"
NOT_CONNECTED = "131024"  # 中央区: a municipality code, not connected to this center


@pytest.fixture(scope="module", params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    """A console on a center with two municipalities connected and one terminal enrolled."""
    config = backend_center(request, tmp_path_factory, "console-incidents")
    directory = config.directory
    for code in (TOWN, OTHER_TOWN):
        config.municipalities[code] = {"url": f"https://municipal-{code}.example"}
    config.save()
    config.enroll_terminal(TERMINAL, STORE, directory / "terminal", now=NOW)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


def stored(console: RunningConsole) -> dict[int, sa.Row[tuple[object, ...]]]:
    """Every stop in the center's database, by id."""
    engine = make_engine(console.config.database_url)
    try:
        with engine.connect() as connection:
            return {row.id: row for row in connection.execute(sa.select(issuance_stops))}
    finally:
        engine.dispose()


def in_force(console: RunningConsole) -> set[int]:
    return {stop_id for stop_id, row in stored(console).items() if row.lifted_at is None}


def listed(page: httpx.Response, table: str) -> dict[int, tuple[str, str]]:
    """The stops a table of the page lists (``in-force``, ``history``): id → (scope, target)."""
    body = page.text.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return {
        int(stop): (scope, target)
        for stop, scope, target in re.findall(
            r'<tr data-stop="(\d+)" data-scope="([a-z_]+)" data-target="([^"]*)">', body
        )
    }


def lift_buttons(page: httpx.Response) -> set[int]:
    return {int(number) for number in re.findall(r'action="/incidents/stops/(\d+)/lift"', page.text)}


# -- an operator ------------------------------------------------------------------------------------


def test_an_operator_reviews_a_stop_of_everything_sets_it_and_lifts_it(console: RunningConsole) -> None:
    operator = enrolled(console, "operator")
    before = in_force(console)
    typed = form("all")
    reviewed = operator.change("/incidents/review", typed)
    assert reviewed.status_code == 200
    assert 'id="confirm" data-scope="all" data-target=""' in reviewed.text
    assert "すべての住民が交付を受けられなくなります" in reviewed.text  # what it will refuse
    assert "1 台が稼働中" in reviewed.text  # the one terminal enrolled
    assert "すでに受け付けた注文は中断しません" in reviewed.text  # and what it will not
    assert (
        f'id="confirm-reason-ja">{JA}<' in reviewed.text and f'id="confirm-reason-en">{EN}<' in reviewed.text
    )
    assert in_force(console) == before  # the confirmation sets nothing
    again = operator.change("/incidents/edit", typed)  # "change it": the form, as it was typed
    assert again.status_code == 200 and f'value="{JA}"' in again.text and 'value="all" checked' in again.text

    stop_id = stop_through_the_page(operator, typed)
    assert in_force(console) == before | {stop_id}
    row = stored(console)[stop_id]
    assert (row.scope, row.target, row.reason_ja, row.reason_en) == ("all", None, JA, EN)
    assert row.stopped_by == operator.name and row.stopped_at == NOW.replace(tzinfo=row.stopped_at.tzinfo)
    page = operator.client.get(f"/incidents?set={stop_id}")
    assert f'id="notice" data-done="set" data-stop="{stop_id}"' in page.text
    assert listed(page, "in-force")[stop_id] == ("all", "") and stop_id in lift_buttons(page)
    assert operator.name in page.text.split('<table id="in-force">')[1].split("</table>")[0]

    lift_through_the_page(operator, stop_id)
    assert stop_id not in in_force(console) and stored(console)[stop_id].lifted_by == operator.name
    page = operator.client.get(f"/incidents?lifted={stop_id}&lang=en")
    assert f'data-done="lifted" data-stop="{stop_id}"' in page.text and "issuance resumes" in page.text
    assert stop_id in listed(page, "history") and stop_id not in listed(page, "in-force")
    assert refusal(operator.change(f"/incidents/stops/{stop_id}/lift")) == (409, "stop_already_lifted")
    # both changes are audited, naming the console account
    lines = [
        (line.outcome, line.reason, line.actor)
        for line in lines_of(console.config, "issuance_stop")
        if line.detail == f"stop {stop_id}: everything"
    ]
    assert lines == [("set", "all", operator.name), ("lifted", "all", operator.name)]


@pytest.mark.parametrize(
    ("scope", "target", "said"),
    [
        ("municipality", {"municipality": TOWN}, "ほかの市区町村の住民は通常どおりです"),
        ("certificate_type", {"certificate_type": "seal_registration"}, "印鑑登録証明書: すべての端末で"),
        ("terminal", {"terminal": TERMINAL}, f"({STORE})"),
    ],
)
def test_a_stop_of_one_municipality_type_or_terminal_names_it_and_says_what_it_refuses(
    console: RunningConsole, scope: str, target: dict[str, str], said: str
) -> None:
    operator = enrolled(console, "operator")
    # the other scopes' fields, filled in too, are not what this stop names
    typed = {"municipality": OTHER_TOWN, "certificate_type": "tax", "terminal": "T-9999"}
    typed.update(form(scope, **target))
    reviewed = operator.change("/incidents/review", typed)
    assert f'id="confirm" data-scope="{scope}" data-target="{next(iter(target.values()))}"' in reviewed.text
    assert escape(said) in reviewed.text
    stop_id = stop_through_the_page(operator, typed)
    row = stored(console)[stop_id]
    assert (row.scope, row.target, row.stopped_by) == (scope, next(iter(target.values())), operator.name)
    lift_through_the_page(operator, stop_id)
    lines = [
        line
        for line in lines_of(console.config, "issuance_stop")
        if line.detail.startswith(f"stop {stop_id}:")
    ]
    assert [(line.outcome, line.actor) for line in lines] == [
        ("set", operator.name),
        ("lifted", operator.name),
    ]
    assert [line.terminal_id for line in lines] == [TERMINAL if scope == "terminal" else None] * 2


@pytest.mark.parametrize(
    ("typed", "field", "problem"),
    [
        ({"reason_ja": JA, "reason_en": EN}, "scope", "scope_required"),
        (form("everything"), "scope", "scope_required"),
        (form("municipality"), "municipality", "municipality_required"),
        (form("municipality", municipality="131017"), "municipality", "bad_municipality"),
        (form("municipality", municipality="13101X"), "municipality", "bad_municipality"),
        (form("municipality", municipality=NOT_CONNECTED), "municipality", "municipality_not_connected"),
        (form("certificate_type"), "certificate_type", "certificate_type_required"),
        (form("certificate_type", certificate_type="passport"), "certificate_type", "bad_certificate_type"),
        (form("terminal"), "terminal", "terminal_required"),
        (form("terminal", terminal="t 0001"), "terminal", "bad_terminal_id"),
        (form("terminal", terminal="T-9999"), "terminal", "unknown_terminal"),
        (form("all", ja="  "), "reason_ja", "reason_required"),
        (form("all", en=""), "reason_en", "reason_required"),
        (form("all", ja="止" * 161), "reason_ja", "reason_too_long"),
        (form("all", en="Stopped <b>now</b>"), "reason_en", "reason_not_plain"),
        (form("all", ja="一行目\n二行目"), "reason_ja", "reason_not_plain"),
        (form("all", en="Stopped\u202enow"), "reason_en", "reason_not_plain"),  # a bidirectional override
    ],
)
def test_what_is_typed_wrong_is_said_next_to_its_field_and_nothing_is_set(
    console: RunningConsole, typed: dict[str, str], field: str, problem: str
) -> None:
    operator = enrolled(console, "operator")
    before = stored(console)
    for path in ("/incidents/review", "/incidents/stops"):  # the confirmation skipped: checked all the same
        answer = operator.change(path, typed)
        assert answer.status_code == 400, path
        assert re.findall(r'data-problem="([a-z_]+)"', answer.text) == [problem], path
        assert f'<p class="field-error" id="{field}-error" data-problem="{problem}">' in answer.text
        assert escape(PROBLEM_WORDS[problem][0]) in answer.text  # in Japanese, by default
        assert 'role="alert" id="problems"' in answer.text  # the summary, linked to the field
        if field != "scope":
            assert f'id="{field}"' in answer.text and f'aria-describedby="{field}-error"' in answer.text
        assert 'id="confirm"' not in answer.text
    assert stored(console) == before
    english = operator.client.post("/incidents/review?lang=en", data={"csrf": operator.csrf, **typed})
    assert escape(PROBLEM_WORDS[problem][1]) in english.text


# -- municipal staff --------------------------------------------------------------------------------


def test_municipal_staff_stop_and_lift_their_own_municipality_only(console: RunningConsole) -> None:
    staff = enrolled(console, "municipal", TOWN)
    page = staff.client.get("/incidents")
    assert '<input type="hidden" name="scope" value="municipality">' in page.text
    assert f'<input type="hidden" name="municipality" value="{TOWN}">' in page.text
    assert 'type="radio"' not in page.text  # no other scope is offered
    stop_id = stop_through_the_page(staff, form("municipality", municipality=TOWN))
    assert (stored(console)[stop_id].target, stored(console)[stop_id].stopped_by) == (TOWN, staff.name)
    assert stop_id in lift_buttons(staff.client.get("/incidents"))
    lift_through_the_page(staff, stop_id)
    assert stored(console)[stop_id].lifted_by == staff.name
    actors = [
        line.actor
        for line in lines_of(console.config, "issuance_stop")
        if line.detail.startswith(f"stop {stop_id}:")
    ]
    assert actors == [staff.name, staff.name]

    # the form edited to stop more, or another municipality: refused, nothing set
    before = stored(console)
    for path in ("/incidents/review", "/incidents/stops", "/incidents/edit"):
        for typed in (
            form("all"),
            form("certificate_type", certificate_type="tax"),
            form("terminal", terminal=TERMINAL),
            {"reason_ja": JA, "reason_en": EN},
        ):
            assert refusal(staff.change(path, typed)) == (403, "not_allowed"), (path, typed)
        tampered = form("municipality", municipality=OTHER_TOWN)
        assert refusal(staff.change(path, tampered)) == (404, "not_found"), path
        assert refusal(staff.change(path, form("municipality", municipality="1310"))) == (
            400,
            "bad_municipality",
        )
    assert stored(console) == before


def test_municipal_staff_see_only_the_stops_that_concern_them_and_lift_no_other(
    console: RunningConsole,
) -> None:
    operator, staff = enrolled(console, "operator"), enrolled(console, "municipal", TOWN)
    stops = {
        "all": stop_through_the_page(operator, form("all")),
        "own": stop_through_the_page(operator, form("municipality", municipality=TOWN)),
        "other": stop_through_the_page(operator, form("municipality", municipality=OTHER_TOWN)),
        "type": stop_through_the_page(operator, form("certificate_type", certificate_type="tax")),
        "terminal": stop_through_the_page(operator, form("terminal", terminal=TERMINAL)),
    }
    try:
        page = staff.client.get("/incidents")
        shown = set(listed(page, "in-force"))
        assert {stops["all"], stops["own"]} <= shown
        assert not {stops["other"], stops["type"], stops["terminal"]} & shown
        assert OTHER_TOWN not in page.text
        assert lift_buttons(page) == {
            stop for stop in shown if listed(page, "in-force")[stop][0] == "municipality"
        }
        assert set(listed(operator.client.get("/incidents"), "in-force")) >= set(stops.values())
        # lifting by an edited address: a stop they cannot see is not there; everything is not theirs
        for hidden in ("other", "type", "terminal"):
            assert refusal(staff.change(f"/incidents/stops/{stops[hidden]}/lift")) == (404, "not_found")
        assert refusal(staff.change(f"/incidents/stops/{stops['all']}/lift")) == (403, "not_allowed")
        assert in_force(console) >= set(stops.values())
        # a notice of a stop they cannot see says nothing of it
        assert 'id="notice"' not in staff.client.get(f"/incidents?set={stops['other']}").text
        lift_through_the_page(staff, stops["own"])
    finally:
        for name, stop_id in stops.items():
            if name != "own":
                lift_through_the_page(operator, stop_id)
    history = listed(staff.client.get("/incidents"), "history")
    assert {stops["all"], stops["own"]} <= set(history)
    assert not {stops["other"], stops["type"], stops["terminal"]} & set(history)
    assert {stops["other"], stops["type"]} <= set(listed(operator.client.get("/incidents"), "history"))


# -- auditors, CSRF, unknown stops -------------------------------------------------------------------


def test_an_auditor_reads_every_stop_and_changes_none(console: RunningConsole) -> None:
    operator, auditor = enrolled(console, "operator"), enrolled(console, "auditor")
    stop_id = stop_through_the_page(operator, form("municipality", municipality=OTHER_TOWN))
    try:
        page = auditor.client.get("/incidents")
        assert page.status_code == 200 and stop_id in listed(page, "in-force")
        assert not lift_buttons(page) and 'action="/incidents/review"' not in page.text
        before = stored(console)
        for path in (
            "/incidents/review",
            "/incidents/stops",
            "/incidents/edit",
            f"/incidents/stops/{stop_id}/lift",
        ):
            assert refusal(auditor.change(path, form("all"))) == (403, "not_allowed"), path
        assert stored(console) == before
    finally:
        lift_through_the_page(operator, stop_id)


def test_a_stop_or_a_lift_without_the_session_s_csrf_token_is_refused(console: RunningConsole) -> None:
    operator, other = enrolled(console, "operator"), enrolled(console, "operator")
    before = stored(console)
    post = operator.client.post
    for path in ("/incidents/review", "/incidents/stops"):
        assert refusal(post(path, data=form("all"))) == (403, "csrf_refused"), path
        assert refusal(post(path, data={**form("all"), "csrf": other.csrf})) == (403, "csrf_refused"), path
        elsewhere = post(
            path, data={**form("all"), "csrf": operator.csrf}, headers={"origin": "https://evil.example"}
        )
        assert refusal(elsewhere) == (403, "cross_origin"), path
    assert stored(console) == before
    stop_id = stop_through_the_page(operator, form("all"))
    try:
        assert refusal(post(f"/incidents/stops/{stop_id}/lift")) == (403, "csrf_refused")
        assert refusal(post(f"/incidents/stops/{stop_id}/lift", data={"csrf": other.csrf})) == (
            403,
            "csrf_refused",
        )
        assert stop_id in in_force(console)
    finally:
        lift_through_the_page(operator, stop_id)


def test_lifting_a_stop_that_is_not_there_is_answered_404(console: RunningConsole) -> None:
    operator = enrolled(console, "operator")
    for stop_id in ("999999", "abc", "-1", "1" * 40):
        assert refusal(operator.change(f"/incidents/stops/{stop_id}/lift")) == (404, "not_found"), stop_id
    assert 'id="notice"' not in operator.client.get("/incidents?set=999999").text
    assert 'id="notice"' not in operator.client.get("/incidents?set=x").text
