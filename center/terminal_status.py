"""A terminal suspended (一時停止), reactivated (再開) or revoked (失効) by a person: the command
line's ``koufu center terminal suspend|activate|revoke`` and the console's Fleet page both go
through :func:`change_status`, so each change commits in one transaction with its audit line
(event ``terminal_status``, the new status as the outcome, the action as the reason, the person
as the actor). The next signed request of that terminal, to any center process, is refused
``terminal_suspended`` or ``terminal_revoked`` (:class:`center.terminals.Authenticator` reads the
status on every request). A revoked terminal stays revoked (``terminal_revoked``).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from center.audit import AuditEntry, append_many, chain_head
from center.errors import BadRequest, NotFound
from center.incidents import operator_name
from center.store.driver import Database, Sql
from center.terminals import ACTIVE, REVOKED, SUSPENDED, check_terminal_id

AUDIT_EVENT = "terminal_status"


class Action(StrEnum):
    SUSPEND = "suspend"
    ACTIVATE = "activate"
    REVOKE = "revoke"

    @property
    def status(self) -> str:
        """The enrolment status the action leaves the terminal in."""
        return {Action.SUSPEND: SUSPENDED, Action.ACTIVATE: ACTIVE, Action.REVOKE: REVOKED}[self]


_CHANGE = Sql(
    "UPDATE terminals SET status = :status, updated_at = :now "
    f"WHERE id = :terminal_id AND status <> '{REVOKED}' RETURNING id"
)
_STATUS = Sql("SELECT status FROM terminals WHERE id = :terminal_id")


async def change_status(
    database: Database, chain_key: bytes, terminal_id: str, action: Action, by: str, now: dt.datetime
) -> str:
    """Do ``action`` to ``terminal_id`` on behalf of ``by`` (a console account, or ``cli:USER``),
    audited; the status it is left in. ``unknown_terminal`` (404) if it is not enrolled,
    ``terminal_revoked`` if it was revoked already (nothing is written: a refused change is the
    person's mistake, not a decision about the terminal)."""
    check_terminal_id(terminal_id)
    by = operator_name(by)
    async with database.connection() as connection, connection.transaction():
        changed = await connection.one(
            _CHANGE, {"status": action.status, "now": now, "terminal_id": terminal_id}
        )
        if changed is None:
            if await connection.one(_STATUS, {"terminal_id": terminal_id}) is None:
                raise NotFound("unknown_terminal", f"no terminal {terminal_id}")
            raise BadRequest("terminal_revoked", "a revoked terminal stays revoked")
        entry = AuditEntry(
            AUDIT_EVENT,
            action.status,
            action.value,
            terminal_id=terminal_id,
            actor=by,
            detail=f"terminal {terminal_id}: {action.value}",
        )
        await append_many(connection, await chain_head(connection), [(entry, now)], chain_key)
    return action.status
