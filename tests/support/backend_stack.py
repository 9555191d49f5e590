"""The dev stack for the end-to-end tests: real authority, center and municipal server processes
over TLS (:func:`devtools.stack.start_stack`), on the database backend a test module parametrises
its fixture with (``request.param``: ``sqlite`` or ``postgresql``).

A module's fixture starts its stack with :func:`backend_stack`, with the options of its own::

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def stack(request, tmp_path_factory):
        with backend_stack(request, tmp_path_factory, "heartbeats", calendar=None) as stack:
            yield stack
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from devtools.stack import ALWAYS_OPEN, DevStack, start_stack
from support.fixtures_postgres import PostgresServer


@contextlib.contextmanager
def backend_stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    calendar: Mapping[str, object] | None = ALWAYS_OPEN,
    **options: Any,
) -> Iterator[DevStack]:
    """A stack in a new directory ``<name>-<backend>`` on the backend ``request.param``, stopped at
    the end of the block. On PostgreSQL the center and the authority each have a new database on
    the session's server and the center runs in topology ``multi``; on SQLite, ``single``.
    ``calendar`` is stored as the center's calendar before the block (by default always open, so
    that the tests do not depend on the time of day; ``None``: the stack's own). ``options`` go to
    :func:`start_stack` (``workers``, ``session_lifetime``, ``towns``, …)."""
    root = tmp_path_factory.mktemp(f"{name}-{request.param}")
    center_db = authority_db = None
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        center_db = server.url(server.create_database(f"{name}-center"))
        authority_db = server.url(server.create_database(f"{name}-authority"))
    stack = start_stack(
        root,
        center_db=center_db,
        authority_db=authority_db,
        topology="multi" if center_db else "single",
        **options,
    )
    try:
        if calendar is not None:
            stack.load_calendar(calendar)
        yield stack
    finally:
        stack.stop()
