"""What the console's routes share: its settings, clock, database, audit writer, the guard and
the templates (one :class:`Console` per application, in ``app.state.console``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import HTMLResponse

from center.audit import AuditWriter
from center.console.access import Guard
from center.console.accounts import Accounts
from center.console.chain_watch import ChainWatch
from center.console.errors import BadInput
from center.console.page import Page
from center.console.passkeys import Passkeys
from center.console.rendering import Templates
from center.console.roles import Viewer
from center.console.sessions import Sessions
from center.console.settings import ConsoleSettings
from center.console.tampering import RefusalLimit
from center.orders import DEFAULT_SHARES, FeeShares
from center.store.driver import Database

T = TypeVar("T")
Clock = Callable[[], dt.datetime]


@dataclass
class Console:
    settings: ConsoleSettings
    clock: Clock
    database: Database  # the console's own rows and the audit writer (on the event loop)
    engine: sa.Engine  # the center's readings shared with the command line (in worker threads)
    writer: AuditWriter
    chain_key: bytes
    sessions: Sessions
    passkeys: Passkeys
    accounts: Accounts
    guard: Guard
    municipalities: frozenset[str]  # those connected to the center (a stop may name only these)
    templates: Templates = field(default_factory=Templates)
    pages: list[Page] = field(default_factory=list)
    shares: FeeShares = DEFAULT_SHARES  # the center's per-copy shares, for a settlement made by hand
    # the center's directory: its terminal CA (read, never made here) and TLS certificate, for
    # enrolling terminals; without it the console enrols none
    center_directory: Path | None = None
    refusals: RefusalLimit = field(default_factory=RefusalLimit)  # tampering attempts, bounded
    chain: ChainWatch = field(init=False)  # the audit page's verification, on the chain's key

    def __post_init__(self) -> None:
        self.chain = ChainWatch(self.chain_key)

    async def read(self, reading: Callable[[sa.Connection], T]) -> T:
        """``reading`` of the center's database (settlement, audit log, calendar), in a worker
        thread on the SQLAlchemy engine the command line uses too."""

        def run() -> T:
            with self.engine.connect() as connection:
                return reading(connection)

        return await anyio.to_thread.run_sync(run)

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        *,
        current: Page | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        return self.templates.render(
            request,
            template,
            viewer=viewer,
            pages=self.pages,
            current=current,
            status=status,
            context=context,
        )


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def admitted(page: Page) -> Callable[[Request], Awaitable[Viewer]]:
    """The dependency of a page's routes: the viewer, once the guard admitted them."""

    async def viewer(request: Request) -> Viewer:
        return await console_of(request).guard.admit(request, page)

    return viewer


def show(
    request: Request,
    page: Page,
    viewer: Viewer,
    *,
    status: int = 200,
    context: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """``page``'s template for ``viewer``."""
    return console_of(request).render(
        request, f"{page.slug}.html", viewer, current=page, status=status, **(context or {})
    )


def asked_day(value: str | None) -> dt.date | None:
    """A day a page's query names (YYYY-MM-DD), or None for none asked."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput("bad_day", "a day is YYYY-MM-DD") from None
