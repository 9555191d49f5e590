"""The operators' console for the tests: a center directory (``koufu center init``) on SQLite or
PostgreSQL, and the console's real ASGI application served over TLS by uvicorn in a thread of the
test process, on its own port of 127.0.0.1, with the test's clock. Browsers and httpx reach it as
``https://localhost:PORT`` (its origin: passkeys need a host name)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from center.audit import AuditWriter
from center.calendar import ServiceCalendar
from center.calendar_store import load_calendar, store_calendar
from center.config import CenterConfig, initialise
from center.console.accounts import Accounts, EnrolmentLink
from center.console.app import create_console
from center.console.settings import ConsoleSettings
from center.store.driver import Database
from center.store.engine import make_engine
from support.threaded_server import loopback_socket, served_in_thread

STARTUP = 20.0  # seconds the server may take to start (a bound on waiting, not a measurement)


@dataclass
class ConsoleClock:
    """The console's time, moved only by the test."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@dataclass(frozen=True)
class RunningConsole:
    url: str  # https://localhost:PORT, the origin
    settings: ConsoleSettings
    config: CenterConfig
    clock: ConsoleClock

    @property
    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.config.path("tls.crt")))


#: the console's tests run on both databases (PostgreSQL marked, as every test of it is)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def backend_center(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> CenterConfig:
    """A center directory for the backend of ``request.param`` (a fixture parametrized with
    :data:`BACKENDS`): on PostgreSQL, a new database ``name`` on the session's server."""
    url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.url(server.create_database(name.replace("-", "_")))
    return center_directory(tmp_path_factory.mktemp(f"{name}-{request.param}"), url)


def center_directory(directory: Path, database_url: str | None) -> CenterConfig:
    config = initialise(directory, database_url, "single")
    config.migrated_engine().dispose()
    return config


@contextlib.contextmanager
def running_console(
    config: CenterConfig, clock: ConsoleClock, *, housekeeping: float = 60.0, **settings: dt.timedelta
) -> Iterator[RunningConsole]:
    """The console on ``config``'s center at ``clock``'s time; ``housekeeping``: seconds between
    its housekeeping's rounds."""
    sock = loopback_socket(backlog=64, reuse_address=True)
    port = sock.getsockname()[1]
    chosen = ConsoleSettings(f"https://localhost:{port}", **settings)
    app = create_console(
        chosen,
        config.database_url,
        config.audit_chain_key,
        municipalities=config.municipalities,
        clock=clock,
        center_directory=config.directory,
        housekeeping_interval=housekeeping,
    )
    tls = config.path("tls.crt"), config.path("tls.key")
    with served_in_thread(app, sock, *tls, what="console", startup=STARTUP):
        yield RunningConsole(chosen.origin, chosen, config, clock)


@contextlib.contextmanager
def backend_console(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    now: dt.datetime,
    *,
    housekeeping: float = 60.0,
) -> Iterator[RunningConsole]:
    """The console on a center of its own for the backend of ``request.param`` (see
    :func:`backend_center`), at a :class:`ConsoleClock` set to ``now``; ``housekeeping`` as for
    :func:`running_console`."""
    config = backend_center(request, tmp_path_factory, name)
    with running_console(config, ConsoleClock(now), housekeeping=housekeeping) as running:
        yield running


_consoles = itertools.count(1)


def console_per_test(name: str, now: dt.datetime, *, housekeeping: float = 60.0) -> Any:
    """A fixture for a module to name ``console``: a console of each test's own, on each of
    :data:`BACKENDS`, its center named after ``name``, its clock at ``now`` (the test may move it),
    its housekeeping every ``housekeeping`` seconds."""

    @pytest.fixture(params=BACKENDS)
    def console(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[RunningConsole]:
        """A console of this test's own, its clock the test's."""
        own = f"{name}-{next(_consoles)}"
        with backend_console(request, tmp_path_factory, own, now, housekeeping=housekeeping) as running:
            yield running

    return console


# -- what the tests put in the center's database ---------------------------------------------------

TOWN, OTHER_TOWN = "131016", "271004"  # 千代田区, 大阪市
STORES = {TOWN: "ファミリーマート 千代田一番町店", OTHER_TOWN: "=ローソン 大阪本町店"}  # "=": a CSV formula


def settled_orders(config: CenterConfig, day: dt.date, at: dt.datetime) -> dict[str, int]:
    """Two settled orders of each town on ``day`` in the ledger (200 yen each: the municipality's
    85, the center's 60, the store's 55); what each town is owed."""
    import sqlalchemy as sa

    from center.store.tables import ledger, orders

    engine = make_engine(config.database_url)
    owed: dict[str, int] = {}
    try:
        with engine.begin() as connection:
            for code, store in STORES.items():
                for number in range(2):
                    order_id = f"order-{code}-{number}"
                    connection.execute(
                        orders.insert().values(
                            id=order_id,
                            terminal_id=f"T-{code[:4]}",
                            idempotency_key=order_id,
                            request_hash="0" * 64,
                            session_id=f"session-{order_id}",
                            municipality=code,
                            subject="0" * 64,
                            store=store,
                            state="settled",
                            fee=200,
                            municipal_request="{}",
                            void_pending=False,
                            created_at=at,
                            updated_at=at,
                            deadline=at,
                        )
                    )
                    for account, amount in (("municipality", 85), ("center", 60), ("store", 55)):
                        connection.execute(
                            ledger.insert().values(
                                order_id=order_id,
                                account=account,
                                municipality=code,
                                store=store,
                                terminal_id=f"T-{code[:4]}",
                                amount=amount,
                                day=day,
                                at=at,
                            )
                        )
                owed[code] = 2 * 85
            assert connection.execute(sa.select(sa.func.count()).select_from(ledger)).scalar_one() == 12
    finally:
        engine.dispose()
    return owed


def calendar_stored(config: CenterConfig, data: Mapping[str, object], at: dt.datetime) -> ServiceCalendar:
    """``data`` stored as the center's calendar in force from ``at`` (as the command line stores it)."""
    calendar = ServiceCalendar.from_dict(data)
    engine = make_engine(config.database_url)
    try:
        with engine.begin() as connection:
            store_calendar(connection, calendar, at)
    finally:
        engine.dispose()
    return calendar


def calendar_in_force(config: CenterConfig) -> ServiceCalendar:
    """The center's calendar in force, read from its database."""
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            return load_calendar(connection)
    finally:
        engine.dispose()


def accounts_of(console: RunningConsole) -> Accounts:
    """The console's accounts on their own connections, with the console's clock (for a test's
    own ``asyncio.run``)."""
    database = Database(console.config.database_url)
    return Accounts(
        database, AuditWriter(database, console.config.audit_chain_key), console.settings, console.clock
    )


def new_account(
    console: RunningConsole, name: str, role: str, municipality: str | None = None
) -> EnrolmentLink:
    """An account made as ``koufu center add-operator`` makes it, at the console's time."""

    async def add() -> EnrolmentLink:
        accounts = accounts_of(console)
        try:
            return await accounts.add(name, role, municipality, actor="cli:test")
        finally:
            await accounts.writer.close()
            await accounts.database.close()

    return asyncio.run(add())
