"""pytest fixtures: a private, throwaway PostgreSQL server and fresh databases in it.

The server itself is ``devtools.postgres`` (``make bench`` uses it too); this module makes
fixtures of it and turns its :class:`~devtools.postgres.PostgresUnavailable` into a test
failure: missing PostgreSQL binaries FAIL the tests (``make`` installs the Debian package
``postgresql``), they are never skipped.

``postgres_server`` (session): ``initdb`` of a new cluster in a private temporary directory, a
server listening only on 127.0.0.1 on a free port (and on a unix socket in that directory), tuned
for tests (``fsync``, ``synchronous_commit`` and ``full_page_writes`` off; 200 connections), with
password (SCRAM) authentication for the superuser ``postgres`` and the test role ``koufu``. It is
stopped and deleted at the end of the session.

``postgres_url`` (function): a fresh, empty database owned by ``koufu``, as a SQLAlchemy URL
``postgresql+psycopg://koufu:PASSWORD@127.0.0.1:PORT/NAME``; dropped after the test (open
connections are closed by force).

``database_url`` (function, parametrised ``sqlite`` / ``postgresql``): a fresh SQLite file URL in
``tmp_path`` or a fresh PostgreSQL URL, so a storage test written once runs on both backends. The
PostgreSQL server is started only when a ``postgresql`` case runs.

PostgreSQL refuses to run as root: then the server runs as the ``postgres`` system user. Several
pytest sessions may run side by side, each with its own directory and port; the leftovers of a
killed session are cleaned up by the next one (see ``devtools.postgres``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import postgres as pgserver
from devtools.postgres import (
    DIR_PREFIX,
    HOST,
    INSTALL_HINT,
    MAX_CONNECTIONS,
    SERVER_SETTINGS,
    SUPERUSER,
    TEST_ROLE,
    PostgresServer,
    PostgresUnavailable,
)

__all__ = [
    "DIR_PREFIX",
    "HOST",
    "INSTALL_HINT",
    "MAX_CONNECTIONS",
    "SERVER_SETTINGS",
    "SUPERUSER",
    "TEST_ROLE",
    "PostgresServer",
    "find_binaries",
    "start_server",
]

_STASH_KEY = pytest.StashKey["PostgresServer"]()
_free_port = pgserver.free_port  # tests replace it to simulate a port taken meanwhile
_clean_leftovers = pgserver.clean_leftovers


def find_binaries(pattern: str | None = None) -> Path:
    """The newest PostgreSQL ``bin`` directory; the test fails when there is none."""
    try:
        return pgserver.find_binaries(pattern)
    except PostgresUnavailable as error:
        pytest.fail(str(error))


def start_server(bindir: Path | None = None) -> PostgresServer:
    """initdb a private cluster, start it, create the test role. The caller must ``stop`` it.

    On failure the test fails, and nothing is left behind.
    """
    try:
        return pgserver.start_server(bindir, port_source=lambda: _free_port())
    except PostgresUnavailable as error:
        pytest.fail(str(error))


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """The session's private PostgreSQL server; stopped and deleted at the end."""
    server = start_server()
    request.config.stash[_STASH_KEY] = server
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh empty PostgreSQL database for this test, dropped afterwards (SQLAlchemy URL)."""
    with postgres_server.fresh_database(request.node.name) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend: ``sqlite:///<tmp_path>/test.sqlite3`` or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line with the measured start-up time, when this session started a server."""
    server = terminalreporter.config.stash.get(_STASH_KEY, None)
    if server is not None:
        terminalreporter.write_line(
            f"PostgreSQL {server.version} test server: initdb {server.initdb_seconds:.2f} s, "
            f"start {server.start_seconds:.2f} s (127.0.0.1:{server.port})"
        )
