"""The participating municipalities' sealing keys (封緘鍵の配布): collected by the center from each
connected municipality, kept as data, served to terminals as they came.

A municipality states its sealing key in a statement it signs (``docs/protocol.md`` section 6.5,
:mod:`documents.sealing_key`). The center cannot make one, nor change one unseen: a terminal
verifies each against the municipal keys it trusts. So the center checks only what it needs to
keep and serve one — its form, that it is the asking municipality's, that it has not expired —
and trusts it for nothing.

**Collecting** (:meth:`SealingKeys.collect`): each process's housekeeping, at its start and then
on every round, asks each connected municipality (``GET /v1/sealing-key``) whose statement is
missing or older than :data:`REFRESH` (one that failed, again after :data:`RETRY`), and keeps
the answer in ``municipal_sealing_keys`` (one row per municipality, written over). A
municipality that does not answer keeps its last statement until that expires. Failures are
logged by municipality code and kind only.

**Serving** (:meth:`SealingKeys.participating`): the statements of the municipalities connected
now whose ``not_after`` has not passed, by code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from center.municipal_client import MunicipalClient, MunicipalityUnavailable
from center.store.driver import Database, Sql, stored_time
from documents import DocumentError
from documents.sealing_key import read_sealing_key

log = logging.getLogger(__name__)

REFRESH = dt.timedelta(hours=1)  # a statement is asked for again when it is older than this
RETRY = dt.timedelta(minutes=5)  # a municipality that failed is asked again after this (per process)
AT_ONCE = 8  # municipalities asked at the same time

_KNOWN = Sql("SELECT municipality, fetched_at FROM municipal_sealing_keys")
_UPSERT = Sql(
    "INSERT INTO municipal_sealing_keys (municipality, statement, not_after, fetched_at) "
    "VALUES (:municipality, :statement, :not_after, :fetched_at) "
    "ON CONFLICT (municipality) DO UPDATE SET statement = excluded.statement, "
    "not_after = excluded.not_after, fetched_at = excluded.fetched_at"
)
_STATEMENT = Sql("SELECT statement FROM municipal_sealing_keys WHERE municipality = :municipality")
_CURRENT = Sql(
    "SELECT municipality, statement FROM municipal_sealing_keys WHERE not_after >= :now ORDER BY municipality"
)


@dataclass(frozen=True)
class Participating:
    """A municipality a terminal can seal to: its code and its statement, as collected."""

    municipality: str
    statement: bytes


class SealingKeys:
    """The sealing key statements of the municipalities of ``municipalities`` (the center's
    client of them), kept in the center's database."""

    def __init__(
        self,
        database: Database,
        municipalities: MunicipalClient,
        *,
        clock: Callable[[], dt.datetime],
        refresh: dt.timedelta = REFRESH,
    ) -> None:
        self.database = database
        self.municipalities = municipalities
        self.clock = clock
        self.refresh = refresh
        self._failed: dict[str, dt.datetime] = {}  # municipality → when it last failed (this process)

    async def collect(self) -> int:
        """Ask each connected municipality whose statement is missing or stale; how many were
        kept. Never raises for a municipality's failure (logged, kept for the next round)."""
        now = self.clock()
        async with self.database.connection() as connection:
            known = {
                row["municipality"]: stored_time(row["fetched_at"]) for row in await connection.all(_KNOWN)
            }
        due = [
            code
            for code in sorted(self.municipalities.municipalities)
            if (code not in known or now - known[code] >= self.refresh)
            and (code not in self._failed or now - self._failed[code] >= RETRY)
        ]
        limit = asyncio.Semaphore(AT_ONCE)

        async def one(code: str) -> bool:
            async with limit:
                return await self._collect_one(code)

        return sum(await asyncio.gather(*(one(code) for code in due)))

    async def _collect_one(self, code: str) -> bool:
        kept = await self._try(code)
        if kept:
            self._failed.pop(code, None)
        else:
            self._failed[code] = self.clock()
        return kept

    async def _try(self, code: str) -> bool:
        try:
            statement = await self.municipalities.sealing_statement(code)
            read = read_sealing_key(statement)
        except MunicipalityUnavailable as error:
            log.warning("sealing key of municipality %s not collected (%s)", code, error.code)
            return False
        except DocumentError as error:
            log.warning("sealing key of municipality %s refused (%s)", code, error.code)
            return False
        now = self.clock()
        if read.sealing_key.municipality != code or read.sealing_key.not_after < now:
            reason = "another_municipality" if read.sealing_key.municipality != code else "expired"
            log.warning("sealing key of municipality %s refused (%s)", code, reason)
            return False
        async with self.database.connection() as connection:
            await connection.execute(
                _UPSERT,
                {
                    "municipality": code,
                    "statement": statement,
                    "not_after": read.sealing_key.not_after,
                    "fetched_at": now,
                },
            )
        log.info("sealing key of municipality %s collected", code)
        return True

    async def participating(self) -> list[Participating]:
        """The statements of the municipalities connected now, unexpired, by code."""
        async with self.database.connection() as connection:
            rows = await connection.all(_CURRENT, {"now": self.clock()})
        return [
            Participating(row["municipality"], bytes(row["statement"]))
            for row in rows
            if self.municipalities.knows(row["municipality"])
        ]

    async def names(self, municipality: str) -> tuple[str, str] | None:
        """The municipality's name and English name as its statement, last collected, says them
        (expired or not: a name does not expire); ``None`` if none was collected."""
        async with self.database.connection() as connection:
            row = await connection.one(_STATEMENT, {"municipality": municipality})
        if row is None:
            return None
        try:
            stated = read_sealing_key(bytes(row["statement"])).sealing_key
        except DocumentError:
            return None
        return stated.name, stated.name_en
