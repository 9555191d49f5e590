"""The stops of issuance in the database (``issuance_stops``): set, lifted, listed, and the stops
in force as every request that one may refuse reads them (:mod:`center.incidents` has the rules).

**Read on every request, never cached.** A stop must hold from the very next request in every
center process, so no process keeps the stops in memory: each request that a stop may refuse (a
new session, the card's proof, the offer, a new order) reads the stops in force, one statement
over a partial index of the rows not lifted (a handful at most; the history is never scanned).
That read costs about as much as the version-counter read that a cache would still need on every
request to know it is fresh, so a cache would save nothing worth its staleness rules; the figure
is measured by ``python -m bench.issuance_stops`` (docs/decisions.md).

Setting and lifting a stop commit in one transaction with its audit line (the chain's lock taken
as the center's own writer takes it), so there is no stop without its line, nor the reverse.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from center.audit import AuditEntry, append_many, chain_head
from center.errors import Conflict, NotFound
from center.incidents import ActiveStops, IssuanceStop, Scope, StopReason, operator_name, stop_target
from center.store.driver import Connection, Database, Sql, stored_time

AUDIT_EVENT = "issuance_stop"

_COLUMNS = "id, scope, target, reason_ja, reason_en, stopped_by, stopped_at, lifted_by, lifted_at"
_IN_FORCE = Sql(f"SELECT {_COLUMNS} FROM issuance_stops WHERE lifted_at IS NULL ORDER BY id")
_EVERY = Sql(f"SELECT {_COLUMNS} FROM issuance_stops ORDER BY id")
_ONE = Sql(f"SELECT {_COLUMNS} FROM issuance_stops WHERE id = :stop_id")
_LIFTED = Sql(
    f"SELECT {_COLUMNS} FROM issuance_stops WHERE lifted_at IS NOT NULL ORDER BY id DESC LIMIT :most"
)
_LIFTED_CONCERNING = Sql(
    f"SELECT {_COLUMNS} FROM issuance_stops WHERE lifted_at IS NOT NULL "
    "AND (scope = 'all' OR (scope = 'municipality' AND target = :municipality)) ORDER BY id DESC LIMIT :most"
)
_INSERT = Sql(
    "INSERT INTO issuance_stops (scope, target, reason_ja, reason_en, stopped_by, stopped_at) "
    f"VALUES (:scope, :target, :reason_ja, :reason_en, :stopped_by, :stopped_at) RETURNING {_COLUMNS}"
)
_LIFT = Sql(
    f"UPDATE issuance_stops SET lifted_by = :lifted_by, lifted_at = :lifted_at "
    f"WHERE id = :stop_id AND lifted_at IS NULL RETURNING {_COLUMNS}"
)
_ENROLLED = Sql("SELECT 1 AS enrolled FROM terminals WHERE id = :terminal_id")


def _stop(row: dict[str, Any]) -> IssuanceStop:
    lifted_at = row["lifted_at"]
    return IssuanceStop(
        stop_id=int(row["id"]),
        scope=Scope(row["scope"]),
        target=row["target"],
        reason=StopReason(row["reason_ja"], row["reason_en"]),
        stopped_by=row["stopped_by"],
        stopped_at=stored_time(row["stopped_at"]),
        lifted_by=row["lifted_by"],
        lifted_at=None if lifted_at is None else stored_time(lifted_at),
    )


async def in_force(connection: Connection) -> ActiveStops:
    """The stops in force now: what a request reads before it is let through."""
    return ActiveStops.of(_stop(row) for row in await connection.all(_IN_FORCE))


async def stops(connection: Connection, *, lifted_too: bool = False) -> list[IssuanceStop]:
    """The stops in force, oldest first; ``lifted_too``: the whole history."""
    return [_stop(row) for row in await connection.all(_EVERY if lifted_too else _IN_FORCE)]


async def stop_of(connection: Connection, stop_id: int) -> IssuanceStop | None:
    """The stop ``stop_id``, in force or lifted; ``None`` if there is none."""
    row = await connection.one(_ONE, {"stop_id": stop_id})
    return None if row is None else _stop(row)


async def lifted(connection: Connection, *, most: int, municipality: str | None = None) -> list[IssuanceStop]:
    """The ``most`` stops lifted last, newest first (the history a page shows); ``municipality``:
    only the stops that concerned its residents as such (of everything, or of it)."""
    if municipality is None:
        rows = await connection.all(_LIFTED, {"most": most})
    else:
        rows = await connection.all(_LIFTED_CONCERNING, {"most": most, "municipality": municipality})
    return [_stop(row) for row in rows]


async def set_stop(
    database: Database,
    chain_key: bytes,
    scope: Scope,
    target: str | None,
    reason: StopReason,
    by: str,
    now: dt.datetime,
) -> IssuanceStop:
    """Stop issuance of ``scope`` (``target``: the municipality code, certificate type or terminal
    id): in force for every request from now on, in every center process. A terminal must be
    enrolled (``unknown_terminal``); the rest is checked by :mod:`center.incidents`."""
    target, by = stop_target(scope, target), operator_name(by)
    reason = StopReason.of(reason.ja, reason.en)
    async with database.connection() as connection, connection.transaction():
        if scope is Scope.TERMINAL and await connection.one(_ENROLLED, {"terminal_id": target}) is None:
            raise NotFound("unknown_terminal", f"no terminal {target} is enrolled")
        row = await connection.one(
            _INSERT,
            {
                "scope": scope.value,
                "target": target,
                "reason_ja": reason.ja,
                "reason_en": reason.en,
                "stopped_by": by,
                "stopped_at": now,
            },
        )
        assert row is not None
        stop = _stop(row)
        await _audit(connection, chain_key, stop, "set", by, now)
    return stop


async def lift_stop(
    database: Database, chain_key: bytes, stop_id: int, by: str, now: dt.datetime
) -> IssuanceStop:
    """Lift the stop ``stop_id`` (再開): the next request it refused goes through. A stop is lifted
    once (``stop_already_lifted``, saying by whom and when); ``unknown_stop`` if there is none."""
    by = operator_name(by)
    async with database.connection() as connection, connection.transaction():
        row = await connection.one(_LIFT, {"stop_id": stop_id, "lifted_by": by, "lifted_at": now})
        if row is None:
            before = await connection.one(_ONE, {"stop_id": stop_id})
            if before is None:
                raise NotFound("unknown_stop", f"there is no stop {stop_id}")
            lifted = _stop(before)
            assert lifted.lifted_at is not None
            when = lifted.lifted_at.isoformat(timespec="seconds")
            raise Conflict(
                "stop_already_lifted", f"stop {stop_id} was lifted by {lifted.lifted_by} at {when}"
            )
        stop = _stop(row)
        await _audit(connection, chain_key, stop, "lifted", by, now)
    return stop


async def _audit(
    connection: Connection, chain_key: bytes, stop: IssuanceStop, outcome: str, by: str, now: dt.datetime
) -> None:
    """The operator's action on the audit chain, in the caller's transaction."""
    entry = AuditEntry(
        AUDIT_EVENT,
        outcome,
        stop.scope.value,
        terminal_id=stop.target if stop.scope is Scope.TERMINAL else None,
        actor=by,
        detail=f"stop {stop.stop_id}: {stop.describe()}",
    )
    await append_many(connection, await chain_head(connection), [(entry, now)], chain_key)
