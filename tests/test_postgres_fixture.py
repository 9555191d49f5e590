"""The private PostgreSQL server of the tests: reachable, password-protected, fast, isolated.

These tests check the fixtures of ``support.fixtures_postgres`` themselves; storage tests use
``database_url`` (both backends) or ``postgres_url``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from support import fixtures_postgres
from support.fixtures_postgres import PostgresServer, find_binaries, start_server

pytestmark = pytest.mark.postgres

CLIENTS = 50
_seen_databases: list[str] = []


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url, pool_size=CLIENTS, max_overflow=0)
    yield engine
    engine.dispose()


def test_sqlalchemy_connects_as_the_test_role_and_creates_a_table(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE orders (id serial PRIMARY KEY, kind text NOT NULL)"))
        connection.execute(text("INSERT INTO orders (kind) VALUES ('住民票の写し'), ('戸籍証明書')"))
    with engine.connect() as connection:
        kinds = connection.execute(text("SELECT kind FROM orders ORDER BY id")).scalars().all()
        assert kinds == ["住民票の写し", "戸籍証明書"]
        assert connection.execute(text("SELECT current_user")).scalar_one() == "koufu"
        assert connection.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")


def test_server_settings_listen_only_on_loopback_and_favour_speed(postgres_server: PostgresServer) -> None:
    admin = postgres_server.admin()

    def setting(name: str) -> str:
        row = admin.execute(f"SHOW {name}").fetchone()
        assert row is not None
        return str(row[0])

    assert setting("listen_addresses") == "127.0.0.1"
    assert setting("unix_socket_directories") == str(postgres_server.socket_dir)
    assert (postgres_server.socket_dir / f".s.PGSQL.{postgres_server.port}").is_socket()
    assert int(setting("max_connections")) >= 4 * CLIENTS
    assert (setting("fsync"), setting("synchronous_commit"), setting("full_page_writes")) == ("off",) * 3
    assert setting("password_encryption") == "scram-sha-256"
    assert int(setting("server_version_num")) >= 130000  # DROP DATABASE ... WITH (FORCE)


def test_a_password_is_required(postgres_server: PostgresServer, postgres_url: str) -> None:
    url = make_url(postgres_url)
    for password in ("wrong", ""):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(
                host=url.host,
                port=url.port,
                user=url.username,
                password=password,
                dbname=url.database,
                connect_timeout=5,
            ).close()
    psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database
    ).close()


def test_fifty_clients_connected_at_once(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE hits (client int PRIMARY KEY)"))
    all_connected = threading.Barrier(CLIENTS)

    def client(number: int) -> int:
        with engine.begin() as connection:
            all_connected.wait(timeout=60)  # a guard against a hang, not a timing assertion
            connection.execute(text("INSERT INTO hits VALUES (:n)"), {"n": number})
            return int(
                connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                ).scalar_one()
            )

    with ThreadPoolExecutor(CLIENTS) as pool:
        seen = list(pool.map(client, range(CLIENTS)))
    assert max(seen) >= CLIENTS
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM hits")).scalar_one() == CLIENTS


@pytest.mark.parametrize("round_", [1, 2])
def test_every_test_gets_its_own_empty_database(postgres_url: str, round_: int) -> None:
    name = make_url(postgres_url).database
    assert name is not None and name not in _seen_databases
    _seen_databases.append(name)
    engine = create_engine(postgres_url)
    try:
        assert inspect(engine).get_table_names() == []
        with engine.begin() as connection:  # the same name in every round: fails on a shared database
            connection.execute(text("CREATE TABLE leftover (id int)"))
    finally:
        engine.dispose()


def test_databases_are_isolated_and_dropped_even_with_open_connections(
    postgres_server: PostgresServer,
) -> None:
    with postgres_server.fresh_database("a") as url_a, postgres_server.fresh_database("b") as url_b:
        name_a, name_b = make_url(url_a).database, make_url(url_b).database
        assert name_a != name_b and {name_a, name_b} <= postgres_server.databases()
        engine_a, engine_b = create_engine(url_a), create_engine(url_b)
        with engine_a.begin() as connection:
            connection.execute(text("CREATE TABLE only_in_a (id int)"))
        assert inspect(engine_b).get_table_names() == []
        left_open = engine_a.connect()  # a test that forgets to close its connection
    assert not {name_a, name_b} & postgres_server.databases()
    with pytest.raises(DBAPIError, match=r"terminat|closed"):
        left_open.execute(text("SELECT 1"))
    engine_a.dispose()
    engine_b.dispose()


def test_database_url_gives_a_fresh_database_on_each_backend(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend = request.node.callspec.params["database_url"]
    engine = create_engine(database_url)
    try:
        assert engine.dialect.name == backend
        assert inspect(engine).get_table_names() == []
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE certificates (issue_number varchar(32) PRIMARY KEY)"))
            connection.execute(text("INSERT INTO certificates VALUES ('20250104-131016-0001')"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM certificates")).scalar_one() == 1
    finally:
        engine.dispose()
    if backend == "sqlite":
        assert Path(make_url(database_url).database or "").parent == tmp_path


def test_missing_binaries_fail_and_name_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="Debian package 'postgresql'"):
        find_binaries(str(tmp_path / "*" / "bin"))


def test_a_port_taken_meanwhile_is_retried_with_another(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        ports = iter([squatter.getsockname()[1]])
        real_free_port = fixtures_postgres._free_port
        monkeypatch.setattr(fixtures_postgres, "_free_port", lambda: next(ports, None) or real_free_port())
        server = start_server()
    try:
        assert "could not bind" in server.log_path.read_text()
        assert server.admin().execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()
        shutil.rmtree(server.root)


def test_a_server_that_cannot_start_fails_with_its_log_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(prefix: str) -> str:
        created.append(Path(real_mkdtemp(prefix=prefix)))
        return str(created[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setitem(fixtures_postgres.SERVER_SETTINGS, "no_such_setting", "1")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)did not start.*server log.*no_such_setting"):
        start_server()
    assert len(created) == 1 and not created[0].exists()


def test_the_server_of_a_killed_session_is_stopped_and_deleted_by_the_next() -> None:
    server = start_server()
    try:
        (server.root / "owner").write_text("999999999 0")  # as if its pytest had been killed
        fixtures_postgres._clean_leftovers()
        assert server.process.wait(timeout=30) is not None
        deadline = time.monotonic() + 30  # another session's cleaner may be the one deleting it
        while server.root.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.root.exists()
    finally:
        server.stop()
