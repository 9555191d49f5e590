"""Console sessions (セッション): a random id in a cookie, a row in the center's database.

The cookie (:data:`COOKIE`, a ``__Host-`` name) is Secure, HttpOnly, SameSite=Strict, path ``/``,
and holds 32 random bytes (base64url); the database keeps only their SHA-256, with the session's
CSRF token, when it began, when it was last used and when it ended. A session is refused after
``idle_timeout`` without a request, after ``session_lifetime`` whatever happens, once signed out,
once its account is disabled, and once the passkey it was opened with is revoked. Signing in and
signing out are audited; a request's use of the session only moves its last-seen time.

An ended session (signed out, idle too long, past its lifetime, its account disabled, its passkey
revoked) is deleted
by the console process's housekeeping (:meth:`Sessions.delete_ended`, every
``housekeeping_seconds`` of ``center.json``): nothing of it is kept but its audit lines.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from center.audit import AuditEntry, Change
from center.console.accounts import token_hash
from center.console.errors import SignedOut
from center.console.part import ConsolePart
from center.console.roles import Role, Viewer
from center.store.driver import Sql, stored_time

COOKIE = "__Host-koufu-console"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url


@dataclass(frozen=True)
class Operator:
    """An account that proved itself (with a passkey)."""

    operator_id: int
    name: str
    role: Role
    municipality: str | None
    credential: str | None = None  # the passkey it proved itself with (its credential id)


_OPEN = Sql(
    "INSERT INTO console_sessions (id_hash, operator_id, csrf, created_at, last_seen_at, credential_id) "
    "VALUES (:id_hash, :operator_id, :csrf, :now, :now, :credential_id)"
)
_FIND = Sql(
    "SELECT s.csrf, s.created_at, s.last_seen_at, s.ended_at, o.id, o.name, o.role, o.municipality, "
    "o.disabled_at, c.revoked_at FROM console_sessions s JOIN console_operators o ON o.id = s.operator_id "
    "LEFT JOIN console_credentials c ON c.credential_id = s.credential_id "
    "WHERE s.id_hash = :id_hash"
)
_TOUCH = Sql("UPDATE console_sessions SET last_seen_at = :now WHERE id_hash = :id_hash AND ended_at IS NULL")
_DELETE_ENDED = Sql(
    "DELETE FROM console_sessions WHERE ended_at IS NOT NULL OR last_seen_at <= :idle_since "
    "OR created_at <= :born_before "
    "OR operator_id IN (SELECT id FROM console_operators WHERE disabled_at IS NOT NULL) "
    "OR credential_id IN (SELECT credential_id FROM console_credentials WHERE revoked_at IS NOT NULL)"
)
_END = Sql("UPDATE console_sessions SET ended_at = :now WHERE id_hash = :id_hash AND ended_at IS NULL")


class Sessions(ConsolePart):
    async def open(self, operator: Operator, how: str) -> tuple[str, Viewer]:
        """A new session for ``operator`` (signed in ``how``: ``passkey``, ``enrolment``); the
        cookie's value and the viewer."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        key = token_hash(session_id)
        row = {
            "id_hash": key,
            "operator_id": operator.operator_id,
            "csrf": csrf,
            "now": now,
            "credential_id": operator.credential,
        }
        await self.writer.record(
            AuditEntry("console_sign_in", "accepted", how, actor=operator.name),
            now,
            change=Change(_OPEN, row),
        )
        viewer = Viewer(operator.operator_id, operator.name, operator.role, operator.municipality, key, csrf)
        return session_id, viewer

    async def viewer(self, session_id: str | None) -> Viewer:
        """The session's viewer, its last-seen time moved to now; :class:`SignedOut` (with why)
        when there is none that may be used."""
        if session_id is None or not SESSION_ID.fullmatch(session_id):
            raise SignedOut("signed_out", "not signed in")
        key = token_hash(session_id)
        now = self.clock()
        async with self.database.connection() as connection:
            row = await connection.one(_FIND, {"id_hash": key})
            if row is None:
                raise SignedOut("signed_out", "not signed in")
            if row["revoked_at"] is not None:
                raise SignedOut("passkey_revoked", "the passkey this session was opened with was revoked")
            if row["ended_at"] is not None:
                raise SignedOut("signed_out", "not signed in")
            if row["disabled_at"] is not None:
                raise SignedOut("account_disabled", "the account is disabled")
            if now - stored_time(row["created_at"]) >= self.settings.session_lifetime:
                raise SignedOut("session_expired", "the session reached its lifetime")
            if now - stored_time(row["last_seen_at"]) >= self.settings.idle_timeout:
                raise SignedOut("session_idle", "the session was idle too long")
            await connection.execute(_TOUCH, {"id_hash": key, "now": now})
        return Viewer(
            int(row["id"]), str(row["name"]), Role(row["role"]), row["municipality"], key, row["csrf"]
        )

    async def close(self, viewer: Viewer) -> None:
        """Sign out: the session ends now (audited)."""
        now = self.clock()
        await self.writer.record(
            AuditEntry("console_sign_out", "accepted", actor=viewer.name),
            now,
            change=Change(_END, {"id_hash": viewer.session, "now": now}),
        )

    async def delete_ended(self) -> int:
        """Delete every session that may not be used any more (signed out, idle for
        ``idle_timeout``, begun ``session_lifetime`` ago, its account disabled, its passkey
        revoked): the same bounds
        :meth:`viewer` refuses at. Returns how many (the housekeeping's)."""
        now = self.clock()
        params = {
            "idle_since": now - self.settings.idle_timeout,
            "born_before": now - self.settings.session_lifetime,
        }
        async with self.database.connection() as connection:
            return await connection.execute(_DELETE_ENDED, params)
