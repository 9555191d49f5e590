"""What every part of the console that keeps rows works with: the center's database, the audit
writer every change goes through, the console's settings and its clock (the tests' own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from center.audit import AuditWriter
from center.console.settings import ConsoleSettings
from center.store.driver import Database


class ConsolePart:
    """The accounts, the passkeys and the sessions are each one (:mod:`center.console.accounts`,
    :mod:`center.console.passkeys`, :mod:`center.console.sessions`)."""

    def __init__(
        self,
        database: Database,
        writer: AuditWriter,
        settings: ConsoleSettings,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.database = database
        self.writer = writer
        self.settings = settings
        self.clock = clock
