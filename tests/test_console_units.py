"""The operators' console's parts that need no server: its settings, the scope of municipal staff,
what a page may declare, the pages found with their templates, the audit chain's actor, the CSV
of a settlement, and its schema migrated up and down on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from center import audit
from center.audit import AuditEntry, verify_chain
from center.config import ConfigError
from center.console import pages
from center.console.errors import BadInput, OutOfScope
from center.console.page import Page
from center.console.pages.settlement import as_csv
from center.console.roles import CENTER, EVERYONE, Role, Scope
from center.console.settings import ConsoleSettings
from center.settlement import Settlement
from center.store.driver import Database
from center.store.engine import MIGRATIONS, make_engine, migrate
from center.store.tables import audit_log

TEMPLATES = Path(pages.__file__).resolve().parent.parent / "templates"
NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)


def test_the_settings_take_an_https_host_and_sensible_times(tmp_path: Path) -> None:
    assert ConsoleSettings.load(tmp_path).origin == "https://localhost:8444"
    assert ConsoleSettings.load(tmp_path, port=9000).rp_id == "localhost"
    (tmp_path / "console.json").write_text(
        json.dumps({"origin": "https://Console.Center.example:8444/", "idle_timeout_seconds": 600})
    )
    settings = ConsoleSettings.load(tmp_path)
    assert (
        settings.origin == "https://console.center.example:8444"
        and settings.rp_id == "console.center.example"
    )
    assert settings.idle_timeout == dt.timedelta(minutes=10)
    assert settings.enrolment_link("abc") == "https://console.center.example:8444/enrol?token=abc"
    for origin in (
        "http://localhost:8444",
        "https://127.0.0.1:8444",
        "https://[::1]:8444",
        "https://h/x",
        "localhost",
    ):
        with pytest.raises(ConfigError):
            ConsoleSettings(origin)
    with pytest.raises(ConfigError):
        ConsoleSettings(idle_timeout=dt.timedelta(days=2))
    with pytest.raises(ConfigError):
        ConsoleSettings(enrolment_validity=dt.timedelta(days=30))
    (tmp_path / "console.json").write_text("[1]")
    with pytest.raises(ConfigError):
        ConsoleSettings.load(tmp_path)
    (tmp_path / "console.json").write_text('{"idle_timeout_seconds": "soon"}')
    with pytest.raises(ConfigError):
        ConsoleSettings.load(tmp_path)


def test_municipal_staff_are_narrowed_to_their_municipality() -> None:
    center, town = Scope(None), Scope("131016")
    assert center.narrowed(None) is None and center.narrowed("") is None
    assert center.narrowed("271004") == "271004"
    assert town.narrowed(None) == "131016" and town.narrowed("131016") == "131016"
    with pytest.raises(OutOfScope):
        town.narrowed("271004")
    for bad in ("13101", "131017", "abcdef"):
        with pytest.raises(BadInput):
            town.narrowed(bad)
    assert town.admits("131016") and town.admits(None) and not town.admits("271004")
    assert center.admits("271004")


def test_a_page_cannot_let_an_auditor_change_or_a_non_reader_change() -> None:
    with pytest.raises(ValueError, match="auditor"):
        Page("x", "/x", ("x", "x"), EVERYONE, changers=frozenset({Role.AUDITOR}))
    with pytest.raises(ValueError, match="read"):
        Page("x", "/x", ("x", "x"), CENTER, changers=frozenset({Role.MUNICIPAL}))
    with pytest.raises(ValueError):
        Page("x", "x", ("x", "x"), EVERYONE)


def test_every_page_is_found_with_its_template_and_no_auditor_changes_through_one() -> None:
    found = pages.found()
    assert [entry.page.slug for entry in found] == [
        "home",
        "fleet",
        "incidents",
        "settlement",
        "attention",
        "volumes",
        "audit",
        "calendar",
        "operators",
    ]
    for entry in found:
        assert (TEMPLATES / f"{entry.page.slug}.html").is_file(), entry.page.slug
        assert Role.AUDITOR not in entry.page.changers
        assert {route.path for route in entry.router.routes} >= {entry.page.path}  # type: ignore[attr-defined]


def test_the_settlement_csv_quotes_what_a_spreadsheet_would_run() -> None:
    settlement = Settlement(dt.date(2026, 12, 8), 3, {"131016": 255}, {"=HYPERLINK()": 165, "店": 0}, 180)
    lines = as_csv(settlement).removeprefix("\ufeff").splitlines()
    assert lines == [
        "day,account,party,yen",
        "2026-12-08,municipality,131016,255",
        "2026-12-08,store,'=HYPERLINK(),165",
        "2026-12-08,store,店,0",
        "2026-12-08,center,,180",
        "2026-12-08,collected,3 orders,600",
    ]


def test_the_actor_is_chained_and_rows_without_one_keep_their_links(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    key = b"k" * 32

    async def decide() -> None:
        database = Database(url)
        writer = audit.AuditWriter(database, key)
        try:
            await writer.record(AuditEntry("session_opened", "accepted", None, "T-0001", "s-1"), NOW)
            await writer.record(AuditEntry("console_sign_in", "accepted", "passkey", actor="sato"), NOW)
            await writer.record(AuditEntry("session_opened", "accepted", None, "T-0001", "s-2"), NOW)
        finally:
            await writer.close()
            await database.close()

    asyncio.run(decide())
    with engine.begin() as connection:
        assert verify_chain(connection, key).intact
        first = connection.execute(sa.select(audit_log).order_by(audit_log.c.seq)).first()
        assert first is not None and first.actor is None
        # a row without an actor hashes as it did before the console: the fields, no actor
        entry = AuditEntry("session_opened", "accepted", None, "T-0001", "s-1")
        assert audit._row_hash(key, audit.GENESIS, NOW, entry) == first.hash
        connection.execute(audit_log.update().where(audit_log.c.actor == "sato").values(actor="suzuki"))
        report = verify_chain(connection, key)
    engine.dispose()
    assert report.broken is not None and report.broken.event == "console_sign_in"


def test_the_console_s_schema_migrates_up_and_down(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        tables = set(sa.inspect(engine).get_table_names())
        assert {
            "console_operators",
            "console_credentials",
            "console_enrolments",
            "console_sessions",
        } <= tables
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        inspector = sa.inspect(engine)
        assert "console_operators" not in inspector.get_table_names()
        assert "actor" not in {column["name"] for column in inspector.get_columns("audit_log")}
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO console_operators (name, role, municipality, user_handle, created_at) "
                    "VALUES ('a', 'municipal', '131016', 'h1', :now)"
                ),
                {"now": NOW},
            )
        for role, municipality in (("municipal", None), ("auditor", "131016"), ("root", None)):
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO console_operators (name, role, municipality, user_handle, created_at) "
                        "VALUES ('b', :role, :municipality, 'h2', :now)"
                    ),
                    {"role": role, "municipality": municipality, "now": NOW},
                )
    finally:
        engine.dispose()


def test_the_tables_of_volumes_and_orders_are_one_macro() -> None:
    """``_tables.html``'s ``data_table``: a caption and headers in the page's language, a figure's
    column classed ``number``, one empty row spanning every column when there is no row, and a
    scrolling region named by its heading; the pages that list rows use it and no table of their
    own."""
    from markupsafe import Markup

    from center.console.rendering import Templates

    module = Templates().environment.get_template("_tables.html").make_module({"say": lambda ja, en: en})
    columns = [("注文", "Order"), ("通数", "Copies", "number"), ("操作", "Actions")]
    empty = str(module.data_table("t", ("古い順", "Oldest first"), columns, 0, caller=lambda: Markup("")))
    assert '<table id="t">' in empty and "<caption>Oldest first</caption>" in empty
    assert '<th scope="col">Order</th><th scope="col" class="number">Copies</th>' in empty
    assert '<tr><td colspan="3">None</td></tr>' in empty and "table-scroll" not in empty
    rows = str(
        module.data_table(
            "t",
            ("a", "b"),
            columns[:2],
            1,
            ("ありません。", "None."),
            scroll="heading",
            wide=True,
            caller=lambda: Markup("<tr><td>1</td><td>2</td></tr>"),
        )
    )
    assert "<tr><td>1</td><td>2</td></tr>" in rows and "colspan" not in rows
    assert rows.startswith(
        '<div class="table-scroll wide" role="region" aria-labelledby="heading" tabindex="0">'
    )
    assert rows.rstrip().endswith("</table></div>")
    for page in ("volumes", "attention"):
        source = (TEMPLATES / f"{page}.html").read_text(encoding="utf-8")
        assert "data_table(" in source and "<table" not in source and "colspan" not in source, page
