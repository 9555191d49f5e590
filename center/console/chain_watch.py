"""The audit page's verification of the chain, incremental (改ざん検知チェーンの差分検証).

Verifying the whole chain on every view of the audit page reads and recomputes every line, which
grows without end. The console process remembers instead, in memory, where its last verification
that found the chain intact got to (:class:`~center.audit.ChainMark`: the last line's ``seq`` and
hash, how many lines up to it) and, at the next view, verifies only the lines written since
(:func:`~center.audit.verify_chain` with ``since``), checking that the mark still holds.

The incremental check finds a new line rewritten, the last verified line changed, and lines
deleted or inserted before it; it cannot find an **older line changed in place**: only the full
verification does. So the page says which check its result is from, and when this process last
verified the whole chain, and offers a full verification (``/audit?verify=full``). A full
verification runs on the first view after the console starts, on request, and on every view
while the chain is broken (a broken chain has no mark to go on from).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa

from center.audit import ChainMark, ChainReport, verify_chain

Read = Callable[[Callable[[sa.Connection], ChainReport]], Awaitable[ChainReport]]


@dataclass(frozen=True)
class ChainView:
    """A verification's result as the page shows it."""

    report: ChainReport
    incremental: bool  # from the incremental check (else the full verification, just now)
    full_at: dt.datetime | None  # when this process last verified the whole chain
    full_rows: int  # how many lines that full verification read


class ChainWatch:
    """One console process's memory of the chain's verification."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._mark: ChainMark | None = None
        self._full_at: dt.datetime | None = None
        self._full_rows = 0
        self._lock = asyncio.Lock()  # one verification at a time: the mark moves in order

    async def verify(self, read: Read, now: dt.datetime, *, full: bool = False) -> ChainView:
        """The chain verified through ``read`` (the console's reading in a worker thread): fully
        if asked, if never yet, or if it was broken; else from the mark."""
        async with self._lock:
            mark = None if full else self._mark
            if mark is None:
                report = await read(lambda connection: verify_chain(connection, self.key))
                self._full_at, self._full_rows = now, report.rows
            else:
                report = await read(lambda connection: verify_chain(connection, self.key, since=mark))
            self._mark = report.mark
            return ChainView(report, mark is not None, self._full_at, self._full_rows)
