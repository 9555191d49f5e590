"""The authority's records as its HTTP server reads them: on the event loop, through the database
drivers (``center.store.driver``), like the center's request path.

Only the questions verifiers ask many times a second are here: a certificate's record with its
kept OCSP answer, and keeping a newly signed answer. Everything else (issuance, revocation,
CRLs, verifiers, migrations) stays with :class:`~center.authority.store.AuthorityStore`, which
writes the same rows through SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator

import psycopg
import psycopg_pool

from center.authority.errors import AuthorityStateError
from center.authority.service import MAX_SERIAL
from center.authority.store import CertificateRecord, ProducedAnswer, record_from
from center.store.driver import Connection, Database, Sql, stored_time

# a verifier waits seconds, not half a minute: "tryLater" (or 503) sooner is more use to it
WAIT = 3.0
_RECORD = Sql(
    "SELECT serial, ca_kind, generation, municipality, not_before, not_after, issued_at, "
    "revoked_at, revocation_reason, previous_serial, previous_serials, ocsp_response, ocsp_produced_at "
    "FROM jpki_certificates WHERE serial = :serial"
)
# kept only if the status it states still holds: compared in the statement that writes
_KEEP = Sql(
    "UPDATE jpki_certificates SET ocsp_response = :der, ocsp_produced_at = :this_update "
    "WHERE serial = :serial AND revoked_at IS NOT DISTINCT FROM :revoked_at "
    "AND revocation_reason IS NOT DISTINCT FROM :reason"
)


class AsyncRecords:
    """Certificate records over one :class:`~center.store.driver.Database` (SQLAlchemy URL)."""

    def __init__(self, url: str, *, wait: float = WAIT) -> None:
        self.database = Database(url, pool_size=10, wait=wait)

    async def close(self) -> None:
        await self.database.close()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A connection; any database failure becomes :class:`AuthorityStateError`."""
        try:
            async with self.database.connection() as connection:
                yield connection
        except (psycopg.Error, psycopg_pool.PoolTimeout, sqlite3.Error, OSError) as exc:
            raise AuthorityStateError(f"authority database error: {type(exc).__name__}") from exc

    async def get(self, serial: int) -> CertificateRecord | None:
        """The record of ``serial``; ``None`` if never issued (or beyond what the database holds)."""
        if not 0 < serial <= MAX_SERIAL:
            return None
        async with self._connection() as connection:
            row = await connection.one(_RECORD, {"serial": serial})
        return None if row is None else record_from(row, stored_time)

    async def keep_answer(self, record: CertificateRecord, answer: ProducedAnswer) -> bool:
        """As :meth:`AuthorityStore.keep_answer <center.authority.store.AuthorityStore.keep_answer>`."""
        async with self._connection() as connection:
            changed = await connection.execute(
                _KEEP,
                {
                    "der": answer.der,
                    "this_update": answer.this_update,
                    "serial": record.serial,
                    "revoked_at": record.revoked_at,
                    "reason": record.revocation_reason.value if record.revocation_reason else None,
                },
            )
        return changed == 1
