"""Terminals' heartbeats (死活監視): what each terminal says of itself about every 30 seconds, and
what the center keeps of it.

A heartbeat (:class:`Heartbeat`) says the kiosk's build and a hash of its settings, the printer's
state, whether the card reader is attached, the peripheral controller's state, its latched door or
tamper alarm, the change the hoppers still owe and the minute the last resident session ended:
nothing about a person, no session id.

The center keeps two things, both on the request path, on the drivers (``store/driver.py``):

- ``terminal_states``: one row per terminal, written over by each heartbeat: its latest state,
  ``last_seen`` (the center's time of the last heartbeat) and ``since`` (the first heartbeat of
  this state, unbroken). What the operators' console lists (:mod:`center.fleet`).
- ``terminal_history``: a row when that state **changes** (the build, the settings, a device, the
  alarm, the change owed), and when a terminal speaks again after a silence of more than
  :data:`SILENCE` (a gap the console shows as offline): the state, ``since`` and ``previous_seen``
  (the heartbeat before it, so the gap is ``since - previous_seen``). A heartbeat that changes
  nothing writes no history row. The minute of the last session is kept with each row but is not
  a change: a terminal in use would otherwise write a row per resident.

Why changes and not every heartbeat: 55,000 terminals every 30 s are 158 million heartbeats a day;
a row each is some 15 GB a day of "nothing changed", and as many deletes to keep it bounded. A
row per change is what an operator reads anyway (when did the paper run out, when did the build
change, how long was it silent), and it is a few rows a terminal a day. So a heartbeat is one
statement on PostgreSQL (the upsert, and the history row when the state changed, in one
``WITH``), three small ones in one transaction on SQLite.

The history is bounded twice: at most :data:`HISTORY_ROWS` rows per terminal, trimmed as a row is
added (a terminal that flaps, or sends as fast as it can, cannot fill the table; the trim runs
only when a row was added, which is rare), and nothing older than :data:`HISTORY_KEPT`, deleted by
each center process's housekeeping (:func:`prune`, one indexed ``DELETE`` a minute).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from center.store.driver import Connection, Row, Sql, stored_time

SILENCE = dt.timedelta(seconds=90)  # three heartbeats missed: the terminal was away
HISTORY_ROWS = 500  # per terminal, the newest
HISTORY_KEPT = dt.timedelta(days=7)

# the columns a heartbeat reports; every one but the last session's minute is part of the state
REPORTED = ("build", "config_hash", "printer", "card_reader", "controller", "alarm", "change_owed")
COLUMNS = (*REPORTED, "last_session_at")


@dataclass(frozen=True)
class Heartbeat:
    """What a terminal says of itself (checked by the API's :class:`~center.messages.HeartbeatReport`)."""

    build: str
    config_hash: str
    printer: str
    card_reader: bool
    controller: str
    alarm: str | None
    change_owed: int
    last_session_at: dt.datetime | None  # UTC, to the minute

    def params(self, terminal_id: str, now: dt.datetime) -> dict[str, Any]:
        return {"terminal_id": terminal_id, "now": now, **{name: getattr(self, name) for name in COLUMNS}}

    def same_state(self, row: Row) -> bool:
        """Whether ``row`` (of either table, from either database) holds this state."""
        return all(_stored(name, row[name]) == getattr(self, name) for name in REPORTED)


def _stored(name: str, value: Any) -> Any:
    return bool(value) if name == "card_reader" else value


_LIST = ", ".join(COLUMNS)
_NEW = ", ".join(f":{name}" for name in COLUMNS)
_SET = ", ".join(f"{name} = excluded.{name}" for name in REPORTED)
_KEEP_SESSION = "last_session_at = COALESCE(excluded.last_session_at, s.last_session_at)"

# PostgreSQL: in one statement, the latest state written over, and the history row added when the
# state changed or the terminal was silent (``since`` starts again now: the row's ``since`` is
# this heartbeat's time). ``previous`` reads the row as it was before the statement.
_RECORD_PG = Sql(f"""
WITH previous AS (
    SELECT last_seen FROM terminal_states WHERE terminal_id = :terminal_id
), latest AS (
    INSERT INTO terminal_states AS s (terminal_id, since, last_seen, {_LIST})
    VALUES (:terminal_id, :now, :now, {_NEW})
    ON CONFLICT (terminal_id) DO UPDATE SET
        since = CASE
            WHEN ({", ".join(f"s.{n}" for n in REPORTED)})
                 IS NOT DISTINCT FROM ({", ".join(f"excluded.{n}" for n in REPORTED)})
                 AND s.last_seen >= :silent_before
            THEN s.since ELSE excluded.since END,
        last_seen = excluded.last_seen, {_SET}, {_KEEP_SESSION}
    RETURNING since, last_session_at
)
INSERT INTO terminal_history (terminal_id, since, previous_seen, {_LIST})
SELECT :terminal_id, latest.since, (SELECT last_seen FROM previous), {", ".join(f":{n}" for n in REPORTED)},
       latest.last_session_at
FROM latest WHERE latest.since = :now
RETURNING id
""")
# SQLite: the same in three statements, in one transaction
_LATEST = Sql(f"SELECT since, last_seen, {_LIST} FROM terminal_states WHERE terminal_id = :terminal_id")
_UPSERT = Sql(f"""
INSERT INTO terminal_states AS s (terminal_id, since, last_seen, {_LIST})
VALUES (:terminal_id, :since, :now, {_NEW})
ON CONFLICT (terminal_id) DO UPDATE SET
    since = excluded.since, last_seen = excluded.last_seen, {_SET}, {_KEEP_SESSION}
RETURNING last_session_at
""")
_ADD_HISTORY = Sql(f"""
INSERT INTO terminal_history (terminal_id, since, previous_seen, {_LIST})
VALUES (:terminal_id, :now, :previous_seen, {", ".join(f":{n}" for n in REPORTED)}, :kept_session)
""")
_TRIM = Sql("""
DELETE FROM terminal_history WHERE terminal_id = :terminal_id AND id <= (
    SELECT id FROM terminal_history WHERE terminal_id = :terminal_id ORDER BY id DESC LIMIT 1 OFFSET :kept
)
""")
_PRUNE = Sql("DELETE FROM terminal_history WHERE since < :horizon")


async def record(
    connection: Connection,
    terminal_id: str,
    heartbeat: Heartbeat,
    now: dt.datetime,
    *,
    rows: int = HISTORY_ROWS,
) -> bool:
    """Keep ``heartbeat`` of ``terminal_id`` (an authenticated terminal) received ``now``; whether a
    history row was added (then the terminal's history is trimmed to ``rows``)."""
    params = heartbeat.params(terminal_id, now)
    if connection.dialect == "postgresql":
        added = await connection.one(_RECORD_PG, {**params, "silent_before": now - SILENCE}) is not None
    else:
        async with connection.transaction():
            before = await connection.one(_LATEST, {"terminal_id": terminal_id})
            added = (
                before is None
                or not heartbeat.same_state(before)
                or stored_time(before["last_seen"]) < now - SILENCE
            )
            since = now if added or before is None else stored_time(before["since"])
            kept = await connection.one(_UPSERT, {**params, "since": since})
            if added:
                previous = None if before is None else stored_time(before["last_seen"])
                session = None if kept is None else kept["last_session_at"]
                await connection.execute(
                    _ADD_HISTORY,
                    {
                        **params,
                        "previous_seen": previous,
                        "kept_session": None if session is None else stored_time(session),
                    },
                )
    if added:
        await connection.execute(_TRIM, {"terminal_id": terminal_id, "kept": rows})
    return added


async def prune(connection: Connection, now: dt.datetime, kept: dt.timedelta = HISTORY_KEPT) -> int:
    """Forget history rows that began more than ``kept`` ago; how many."""
    return await connection.execute(_PRUNE, {"horizon": now - kept})
