"""The operators' console against its real TLS listener, with httpx, on SQLite and PostgreSQL:
who sees what (each role, each page; municipal staff scoped to their municipality, also when they
edit the address), an auditor changes nothing, a signed-out client sees only the sign-in page,
changes need the session's CSRF token and the console's origin, sessions idle out and end,
enrolment links expire and are used once, and each WebAuthn failure has its type. People sign in
with a software passkey (``support.soft_passkey``); the browser tests use Chromium's."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from center.audit import verify_chain
from center.console.sessions import COOKIE
from center.store.engine import make_engine
from center.store.tables import audit_log, console_operators
from documents import tokyo_day
from koufu.cli import main as koufu
from support.center_audit import lines_of
from support.console_people import JSON, client, enrolled, refusal, sign_in, unique
from support.console_process import console_process
from support.console_server import (
    BACKENDS,
    OTHER_TOWN,
    STORES,
    TOWN,
    ConsoleClock,
    RunningConsole,
    accounts_of,
    backend_center,
    center_directory,
    new_account,
    running_console,
    settled_orders,
)
from support.soft_passkey import SoftPasskey, b64url

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
EVERYONES = (
    "/",
    "/fleet",
    "/incidents",
    "/settlement",
    "/settlement.csv",
    "/attention",
    "/volumes",
    "/volumes/copies.csv",
    "/volumes/refusals.csv",
    "/calendar",
)
PAGES = (*EVERYONES, "/audit", "/operators")
READS = {"operator": set(PAGES), "auditor": set(PAGES), "municipal": set(EVERYONES)}


@pytest.fixture(scope="module", params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    config = backend_center(request, tmp_path_factory, "console")
    settled_orders(config, tokyo_day(NOW), NOW)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


@pytest.fixture
def own_console(tmp_path: Path) -> Iterator[RunningConsole]:
    """A console of this test's own (SQLite), whose clock it may move."""
    with running_console(center_directory(tmp_path / "center", None), ConsoleClock(NOW)) as running:
        yield running


# -- signed out ------------------------------------------------------------------------------------


def test_a_signed_out_client_sees_only_the_sign_in_page(console: RunningConsole) -> None:
    with client(console) as anonymous:
        for path in PAGES:
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next="), path
            assert refusal(anonymous.get(path, headers=JSON)) == (401, "signed_out")
        assert refusal(anonymous.post("/operators", data={"name": "x", "role": "auditor"})) == (
            401,
            "signed_out",
        )
        assert refusal(anonymous.post("/sign-out")) == (401, "signed_out")
        page = anonymous.get("/sign-in")
        assert page.status_code == 200 and 'data-ceremony="sign-in"' in page.text
        assert "csrf-token" not in page.text and 'href="/settlement"' not in page.text  # no menu
        assert refusal(anonymous.get("/enrol")) == (404, "enrolment_unknown")
        assert anonymous.get("/static/console.js").status_code == 200
        assert anonymous.get("/v1/health").status_code == 404  # the terminal API is not here
        anonymous.cookies.set(COOKIE, b64url(bytes(32)))
        assert anonymous.get("/").status_code == 303  # a cookie that is no session is no session


def test_every_answer_is_closed_to_other_sites_and_to_caches(console: RunningConsole) -> None:
    with client(console) as anonymous:
        answer = anonymous.get("/sign-in")
    policy = answer.headers["content-security-policy"]
    assert (
        "default-src 'none'" in policy
        and "script-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert (
        answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "same-origin"
    )
    assert "https://" not in answer.text and "http://" not in answer.text  # nothing from elsewhere
    assert "<script>" not in answer.text and " on" + "click=" not in answer.text  # no inline script


def test_the_session_cookie_is_secure_http_only_strict_and_for_the_whole_host(
    console: RunningConsole,
) -> None:
    person = enrolled(console, "operator")
    begun = person.client.post("/sign-in/options", json={}, headers=JSON).json()
    done = person.client.post(
        "/sign-in/verify",
        json={"ceremony": begun["ceremony"], "credential": person.passkey.get(begun["publicKey"])},
        headers=JSON,
    )
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and COOKIE.startswith("__Host-")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path=/", "samesite=strict"} <= attributes
    assert not any(part.startswith("domain") or part.startswith("expires") for part in attributes)


# -- roles ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "municipal", "auditor"])
def test_each_role_reads_the_pages_its_role_allows_and_no_other(console: RunningConsole, role: str) -> None:
    person = enrolled(console, role, TOWN if role == "municipal" else None)
    for path in PAGES:
        answer = person.client.get(path)
        if path in READS[role]:
            assert answer.status_code == 200, (role, path)
        else:
            assert refusal(answer) == (403, "not_allowed"), (role, path)
    menu = re.findall(r'<li><a href="([^"]+)"', person.client.get("/").text)
    assert set(menu) == {path for path in READS[role] if not path.endswith(".csv")}


def test_municipal_staff_see_and_download_only_their_own_municipality(console: RunningConsole) -> None:
    staff = enrolled(console, "municipal", TOWN)
    page = staff.client.get("/settlement").text
    assert f'data-party="{TOWN}"' in page and STORES[TOWN] in page
    assert OTHER_TOWN not in page and STORES[OTHER_TOWN] not in page
    assert 'id="collected">400<' in page  # their two orders: 2 x 200 yen
    csv_file = staff.client.get("/settlement.csv")
    assert csv_file.status_code == 200 and csv_file.headers["content-disposition"].endswith(f'-{TOWN}.csv"')
    assert TOWN in csv_file.text and OTHER_TOWN not in csv_file.text and "ローソン" not in csv_file.text
    # the address edited: another municipality is as if nothing were there
    for path in ("/settlement", "/settlement.csv", "/calendar"):
        assert refusal(staff.client.get(f"{path}?municipality={OTHER_TOWN}")) == (404, "not_found"), path
        assert staff.client.get(f"{path}?municipality={TOWN}").status_code == 200
        assert refusal(staff.client.get(f"{path}?municipality=13101X")) == (400, "bad_municipality")
    assert OTHER_TOWN not in staff.client.get("/").text


def test_the_center_s_people_see_every_municipality_or_the_one_they_ask_for(console: RunningConsole) -> None:
    auditor = enrolled(console, "auditor")
    everything = auditor.client.get("/settlement").text
    assert f'data-party="{TOWN}"' in everything and f'data-party="{OTHER_TOWN}"' in everything
    assert 'id="collected">800<' in everything
    one = auditor.client.get(f"/settlement.csv?municipality={OTHER_TOWN}").text
    assert one.startswith("\ufeffday,account,party,yen\r\n")
    assert f"municipality,{OTHER_TOWN},170" in one and TOWN not in one
    assert "'=ローソン 大阪本町店" in one  # a formula-looking cell is quoted for spreadsheets
    assert refusal(auditor.client.get("/settlement?day=2026-13-01")) == (400, "bad_day")


def test_an_auditor_changes_nothing_that_an_operator_may_change(console: RunningConsole) -> None:
    auditor, operator = enrolled(console, "auditor"), enrolled(console, "operator")
    for path, form in (
        ("/operators", {"name": "by-auditor", "role": "auditor"}),
        (f"/operators/{operator.name}/enrolment", {}),
        (f"/operators/{operator.name}/disable", {}),
    ):
        assert refusal(auditor.change(path, form)) == (403, "not_allowed"), path
    added = operator.change("/operators", {"name": unique("new"), "role": "auditor"})
    assert added.status_code == 200 and "/enrol?token=" in added.text
    assert "by-auditor" not in operator.client.get("/operators").text
    line = lines_of(console.config, "console_operator_added")[-1]
    assert line.actor == operator.name and line.outcome == "accepted"


def test_municipal_staff_change_nothing_at_the_center(console: RunningConsole) -> None:
    staff = enrolled(console, "municipal", TOWN)
    assert refusal(staff.change("/operators", {"name": "by-town", "role": "operator"})) == (
        403,
        "not_allowed",
    )


# -- CSRF -------------------------------------------------------------------------------------------


def test_a_change_without_the_session_s_csrf_token_or_from_elsewhere_is_refused(
    console: RunningConsole,
) -> None:
    operator, other = enrolled(console, "operator"), enrolled(console, "operator")
    name = unique("csrf")
    form = {"name": name, "role": "auditor"}
    post = operator.client.post
    assert refusal(post("/operators", data=form)) == (403, "csrf_refused")
    assert refusal(post("/operators", data=form, headers=JSON)) == (403, "csrf_refused")
    assert refusal(post("/operators", data={**form, "csrf": "x" * 43})) == (403, "csrf_refused")
    assert refusal(post("/operators", data={**form, "csrf": other.csrf})) == (403, "csrf_refused")
    assert refusal(
        post("/operators", data={**form, "csrf": operator.csrf}, headers={"origin": "https://evil.example"})
    ) == (
        403,
        "cross_origin",
    )
    no_origin = httpx.Client(base_url=console.url, verify=console.tls, cookies=operator.client.cookies)
    with no_origin:
        assert refusal(no_origin.post("/operators", data={**form, "csrf": operator.csrf})) == (
            403,
            "cross_origin",
        )
    assert refusal(operator.change("/operators", form, **{"sec-fetch-site": "cross-site"})) == (
        403,
        "cross_origin",
    )
    assert refusal(operator.client.post("/sign-out")) == (403, "csrf_refused")  # signing out too
    assert f'data-name="{name}"' not in operator.client.get("/operators").text  # nothing was changed
    # the same change with the token in the header a script sends
    sent = post("/operators", data=form, headers={"x-csrf-token": operator.csrf})
    assert sent.status_code == 200 and f'data-name="{name}"' in sent.text
    # the ceremonies of a signed-out browser: JSON from the console's origin only
    with client(console) as anonymous:
        assert refusal(
            anonymous.post("/sign-in/options", json={}, headers={"origin": "https://evil.example", **JSON})
        ) == (
            403,
            "cross_origin",
        )
        assert refusal(anonymous.post("/sign-in/options", data={"a": "b"}, headers=JSON)) == (
            400,
            "json_required",
        )


# -- sessions ---------------------------------------------------------------------------------------


def test_signing_out_ends_the_session(console: RunningConsole) -> None:
    person = enrolled(console, "municipal", TOWN)
    cookie = person.client.cookies[COOKIE]
    out = person.change("/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    with client(console) as replayed:
        replayed.cookies.set(COOKIE, cookie)
        assert refusal(replayed.get("/", headers=JSON)) == (401, "signed_out")
    assert lines_of(console.config, "console_sign_out")[-1].actor == person.name
    assert sign_in(person).status_code == 200  # and signs in again with the passkey


def test_an_idle_session_is_refused_and_so_is_one_past_its_lifetime(own_console: RunningConsole) -> None:
    settings, clock = own_console.settings, own_console.clock
    person = enrolled(own_console, "operator")
    clock.advance(settings.idle_timeout - dt.timedelta(seconds=1))
    assert person.client.get("/").status_code == 200  # used in time: idle again from now
    clock.advance(settings.idle_timeout)
    assert refusal(person.client.get("/", headers=JSON)) == (401, "session_idle")
    assert person.client.get("/").headers["location"] == "/sign-in?next=%2F"
    assert sign_in(person).status_code == 200
    step = settings.idle_timeout - dt.timedelta(seconds=1)
    while clock.now + step < NOW + dt.timedelta(days=1):
        clock.advance(step)
        answer = person.client.get("/", headers=JSON)
        if answer.status_code != 200:
            break
    assert refusal(answer) == (401, "session_expired")


def test_a_disabled_account_is_signed_out_and_cannot_sign_in(console: RunningConsole) -> None:
    operator, leaving = enrolled(console, "operator"), enrolled(console, "auditor")
    assert operator.change(f"/operators/{leaving.name}/disable").status_code == 303
    assert refusal(leaving.client.get("/", headers=JSON)) == (401, "account_disabled")
    assert refusal(sign_in(leaving)) == (403, "account_disabled")
    assert refusal(operator.change(f"/operators/{operator.name}/disable")) == (400, "own_account")
    assert lines_of(console.config, "console_operator_disabled")[-1].actor == operator.name


# -- enrolment links and passkeys -----------------------------------------------------------------


def test_an_enrolment_link_expires_and_is_used_once(own_console: RunningConsole) -> None:
    settings, clock = own_console.settings, own_console.clock
    link = new_account(own_console, "late", "auditor")
    clock.advance(settings.enrolment_validity)
    with client(own_console) as browser:
        token = link.url.split("token=")[1]
        assert refusal(browser.get(f"/enrol?token={token}")) == (410, "enrolment_expired")
        assert refusal(browser.post("/enrol/options", json={"token": token}, headers=JSON)) == (
            410,
            "enrolment_expired",
        )
        assert refusal(browser.get("/enrol?token=unknown")) == (404, "enrolment_unknown")
    person = enrolled(own_console, "auditor")  # a link used once
    used = lines_of(own_console.config, "console_enrolment_issued")[-1]
    assert used.subject == f"operator:{person.name}"
    fresh = asyncio.run(_new_link(own_console, person.name))
    token = fresh.split("token=")[1]
    begun = person.client.post("/enrol/options", json={"token": token}, headers=JSON).json()
    again = SoftPasskey(own_console.url)
    answer = again.create(begun["publicKey"])
    assert begun["publicKey"]["excludeCredentials"][0]["id"] == b64url(person.passkey.credential_id)
    done = person.client.post(
        "/enrol/verify",
        json={"ceremony": begun["ceremony"], "token": token, "credential": answer},
        headers=JSON,
    )
    assert done.status_code == 200  # a second device
    with client(own_console) as browser:
        assert refusal(browser.get(f"/enrol?token={token}")) == (410, "enrolment_used")


async def _new_link(console: RunningConsole, name: str) -> str:
    accounts = accounts_of(console)
    try:
        return (await accounts.new_link(name, actor="cli:test")).url
    finally:
        await accounts.writer.close()
        await accounts.database.close()


def test_webauthn_failures_are_typed(console: RunningConsole) -> None:
    person = enrolled(console, "operator")
    browser = person.client
    browser.cookies.clear()

    def options() -> dict[str, object]:
        begun: dict[str, object] = browser.post("/sign-in/options", json={}, headers=JSON).json()
        return begun

    def answered(ceremony: object, credential: object) -> tuple[int, str]:
        return refusal(
            browser.post(
                "/sign-in/verify", json={"ceremony": ceremony, "credential": credential}, headers=JSON
            )
        )

    first, second = options(), options()
    assert answered(second["ceremony"], person.passkey.get(first["publicKey"])) == (400, "wrong_challenge")  # type: ignore[arg-type]
    assert answered(second["ceremony"], person.passkey.get(second["publicKey"])) == (400, "ceremony_unknown")  # type: ignore[arg-type]
    stranger = SoftPasskey(console.url)
    begun = options()
    assert answered(begun["ceremony"], stranger.get(begun["publicKey"])) == (401, "unknown_credential")  # type: ignore[arg-type]
    begun = options()
    assert answered(begun["ceremony"], person.passkey.get(begun["publicKey"], verified=False)) == (  # type: ignore[arg-type]
        401,
        "passkey_not_verified",
    )
    begun = options()
    forged = person.passkey.get(begun["publicKey"], origin="https://evil.example")  # type: ignore[arg-type]
    assert answered(begun["ceremony"], forged) == (401, "passkey_not_verified")
    begun = options()
    assert answered(begun["ceremony"], {"id": "x"}) == (400, "malformed_answer")
    assert answered("no-such-ceremony", {"response": {}}) == (400, "ceremony_unknown")
    # a ceremony of one kind does not answer another
    link = new_account(console, unique("kind"), "auditor")
    token = link.url.split("token=")[1]
    registering = browser.post("/enrol/options", json={"token": token}, headers=JSON).json()
    assert answered(registering["ceremony"], person.passkey.get(options()["publicKey"])) == (
        400,
        "ceremony_unknown",
    )  # type: ignore[arg-type]
    # an enrolment answered without user verification, or for another challenge
    registering = browser.post("/enrol/options", json={"token": token}, headers=JSON).json()
    unverified = SoftPasskey(console.url).create(registering["publicKey"], verified=False)
    done = browser.post(
        "/enrol/verify",
        json={"ceremony": registering["ceremony"], "token": token, "credential": unverified},
        headers=JSON,
    )
    assert refusal(done) == (401, "passkey_not_verified")
    registering = browser.post("/enrol/options", json={"token": token}, headers=JSON).json()
    other = SoftPasskey(console.url).create(registering["publicKey"], challenge=b"\1" * 32)
    done = browser.post(
        "/enrol/verify",
        json={"ceremony": registering["ceremony"], "token": token, "credential": other},
        headers=JSON,
    )
    assert refusal(done) == (400, "wrong_challenge")
    # refusals about a known account are audited; the passkey still signs in
    refused = [(row.outcome, row.reason, row.subject) for row in lines_of(console.config, "console_sign_in")]
    assert ("refused", "passkey_not_verified", f"operator:{person.name}") in refused
    assert sign_in(person).status_code == 200


# -- the audit log ------------------------------------------------------------------------------------


def test_every_change_is_audited_with_who_made_it_and_the_chain_verifies(console: RunningConsole) -> None:
    operator = enrolled(console, "operator")
    name = unique("audited")
    operator.change("/operators", {"name": name, "role": "municipal", "municipality": TOWN})
    operator.change(f"/operators/{name}/enrolment")
    lines = [
        (row.event, row.outcome, row.actor)
        for event in ("console_operator_added", "console_enrolment_issued")
        for row in lines_of(console.config, event)
        if row.subject == f"operator:{name}"
    ]
    assert sorted(lines) == [
        ("console_enrolment_issued", "accepted", operator.name),
        ("console_enrolment_issued", "accepted", operator.name),
        ("console_operator_added", "accepted", operator.name),
    ]
    page = operator.client.get(f"/audit?actor={operator.name}").text
    assert 'data-intact="true"' in page
    assert set(re.findall(r'data-actor="([^"]*)"', page)) == {operator.name}
    assert 'data-event="console_sign_in"' in operator.client.get("/audit?event=console_sign_in").text
    assert 'data-event="console_sign_in"' not in operator.client.get("/audit?event=console_sign_out").text
    assert "No entry" in operator.client.get("/audit?from=2020-01-01&to=2020-01-02&lang=en").text
    assert refusal(operator.client.get("/audit?from=yesterday")) == (400, "bad_day")
    engine = make_engine(console.config.database_url)
    try:
        with engine.connect() as connection:
            assert verify_chain(connection, console.config.audit_chain_key).intact
    finally:
        engine.dispose()


# -- the command line and the listener ------------------------------------------------------------


def test_add_operator_prints_a_link_and_refuses_what_cannot_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "center"
    center_directory(directory, None)
    assert koufu(["center", "add-operator", "tanaka", "--role", "municipal", "--dir", str(directory)]) != 0
    assert "municipal staff need their municipality" in capsys.readouterr().err
    assert (
        koufu(
            [
                "center",
                "add-operator",
                "tanaka",
                "--role",
                "municipal",
                "--municipality",
                TOWN,
                "--dir",
                str(directory),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "https://localhost:8444/enrol?token=" in printed
    assert koufu(["center", "add-operator", "tanaka", "--role", "auditor", "--dir", str(directory)]) != 0
    assert "exists already" in capsys.readouterr().err
    assert koufu(["center", "enrolment-link", "nobody", "--dir", str(directory)]) != 0
    assert koufu(["center", "enrolment-link", "tanaka", "--dir", str(directory)]) == 0
    assert capsys.readouterr().out.count("/enrol?token=") == 1
    engine = make_engine(f"sqlite:///{directory / 'center.db'}")
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.select(console_operators)).one()
            actors = set(connection.execute(sa.select(audit_log.c.actor)).scalars())
    finally:
        engine.dispose()
    assert (row.name, row.role, row.municipality) == ("tanaka", "municipal", TOWN)
    assert len(actors) == 1 and next(iter(actors)).startswith("cli:")  # who ran the command


def test_koufu_center_console_serves_on_its_own_tls_port(tmp_path: Path) -> None:
    directory = tmp_path / "center"
    center_directory(directory, None)
    with console_process(directory, tmp_path / "console.log") as console:
        answer = httpx.get(f"{console.url}/sign-in", verify=console.tls)
        assert answer.status_code == 200 and 'data-ceremony="sign-in"' in answer.text
        assert httpx.get(f"{console.url}/v1/health", verify=console.tls).status_code == 404
        assert f"console listening on https://127.0.0.1:{console.port}" in console.log.read_text()


def test_bad_input_is_refused_with_its_code(console: RunningConsole) -> None:
    with client(console) as anonymous:

        def ceremony(path: str, **body: object) -> tuple[int, str]:
            return refusal(anonymous.post(path, json=body, headers=JSON))

        assert ceremony("/sign-in/verify", credential={}) == (400, "bad_ceremony")
        assert ceremony("/sign-in/verify", ceremony="x" * 201, credential={}) == (400, "bad_ceremony")
        assert ceremony("/enrol/options") == (400, "bad_token")
        assert ceremony("/enrol/options", token="not-a-token") == (404, "enrolment_unknown")
        assert ceremony("/enrol/verify", ceremony="c", credential={}) == (400, "bad_token")
        assert ceremony("/enrol/verify", ceremony="c", token="t", credential={}) == (400, "ceremony_unknown")
        bodies = {"not json": b"{", "not an object": b"[1]", "too large": b'{"a": "' + b"x" * 20_000 + b'"}'}
        for why, body in bodies.items():
            answer = anonymous.post(
                "/sign-in/options", content=body, headers={"content-type": "application/json", **JSON}
            )
            assert refusal(answer)[0] == 400, why
        assert refusal(anonymous.post("/sign-in/options", content=b"{" * 70_000, headers=JSON))[0] == 413
    operator = enrolled(console, "operator")
    for form, code in (
        ({"name": "has space", "role": "auditor"}, "bad_name"),
        ({"name": "x" * 41, "role": "auditor"}, "bad_name"),
        ({"name": "root-ish", "role": "root"}, "bad_role"),
        ({"name": "town-less", "role": "municipal"}, "municipality_required"),
        ({"name": "bad-town", "role": "municipal", "municipality": "131017"}, "bad_municipality"),
        ({"name": "center-town", "role": "operator", "municipality": TOWN}, "municipality_not_for_role"),
        ({"name": operator.name, "role": "auditor"}, "operator_exists"),
    ):
        assert refusal(operator.change("/operators", form)) == (400, code), form
    assert refusal(operator.change("/operators/nobody/enrolment")) == (400, "unknown_operator")
    assert refusal(operator.change("/operators/nobody/disable")) == (400, "unknown_operator")
    issued = lines_of(console.config, "console_enrolment_issued")
    refused = [row for row in issued if row.outcome == "refused"]
    assert refused[-1].reason == "unknown_operator" and refused[-1].actor == operator.name
    assert refusal(operator.client.get("/no-such-page")) == (404, "not_found")
    assert refusal(operator.client.delete("/operators", headers={"x-csrf-token": operator.csrf})) == (
        405,
        "method_not_allowed",
    )
