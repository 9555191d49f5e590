"""The fleet as the operators' console will read it (:mod:`center.fleet`), from a running stack's
own database, at the wall clock (the stack's center processes keep the wall clock's time)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

from center.config import CenterConfig
from center.fleet import Fleet, HistoryEntry, TerminalView
from center.store.driver import Database
from devtools.stack import DevStack

T = TypeVar("T")


def terminal_view(stack: DevStack, terminal_id: str) -> TerminalView:
    """The terminal as the console lists it now."""

    async def read(fleet: Fleet) -> TerminalView | None:
        return await fleet.terminal(terminal_id)

    view = _ask(stack, read)
    assert view is not None, f"{terminal_id} is not enrolled"
    return view


def terminal_history(stack: DevStack, terminal_id: str) -> list[HistoryEntry]:
    """The terminal's history, newest first."""

    async def read(fleet: Fleet) -> list[HistoryEntry]:
        return await fleet.history(terminal_id)

    return _ask(stack, read)


def _ask(stack: DevStack, question: Callable[[Fleet], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(CenterConfig.load(stack.center_dir).database_url)
        try:
            return await question(Fleet(database, clock=lambda: dt.datetime.now(dt.UTC)))
        finally:
            await database.close()

    return asyncio.run(run())
