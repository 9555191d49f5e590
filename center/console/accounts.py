"""The console's accounts (運用者アカウント) and their one-time enrolment links.

An account is made with ``koufu center add-operator NAME --role …`` (or a link is issued again,
``koufu center enrolment-link NAME``, and on the Operators page): the command prints a link,
valid for a limited time (``enrolment_valid_hours``), with which the person registers a passkey in
the browser. Only the SHA-256 of the link's token is stored; the link is shown once. Making an
account, issuing a link, disabling an account and revoking one of its passkeys are each one
audited decision.

An account may have several passkeys (one per device). Each is named by its **label**, the first
12 hexadecimal digits of its credential id's SHA-256 (the pages, the command line and the audit
log's ``detail`` use it; the credential id itself is shown nowhere). Revoking a passkey
(:meth:`Accounts.revoke_passkey`) stops it signing in and ends the sessions opened with it; the
account's other passkeys are untouched. The last passkey of an account may be revoked too (a lost
or stolen device must be stoppable without disabling the account): the account then signs in
again only through a new enrolment link (``koufu center enrolment-link NAME``, or the Accounts
page's **New enrolment link**).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from center.audit import AuditEntry, Change
from center.calendar_rules import validate_municipality_code
from center.console.errors import AccountRefused
from center.console.part import ConsolePart
from center.console.roles import Role
from center.errors import CenterError
from center.store.driver import Sql, stored_time

NAME = re.compile(r"[\w.@-]{1,40}")  # letters (any script), digits, . @ - _: a login name
TOKEN_BYTES = 32
LABEL = re.compile(r"[0-9a-f]{12}")  # a passkey's label (passkey_label)


def subject_of(name: str) -> str:
    """How the audit log names the account a decision is about (its ``subject``)."""
    return f"operator:{name}"


def token_hash(token: str) -> str:
    """What the database keeps of a secret given to a browser (a link's token, a session id)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def passkey_label(credential_id: str) -> str:
    """How the console names one passkey: the first 12 hex digits of its credential id's SHA-256."""
    return hashlib.sha256(credential_id.encode("ascii", "replace")).hexdigest()[:12]


@dataclass(frozen=True)
class Passkey:
    """One passkey of an account, as the Accounts page lists it."""

    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class Revoked:
    """A passkey revoked: which, whether it was the account's last, how many sessions ended."""

    name: str
    label: str
    last: bool
    sessions_ended: int


@dataclass(frozen=True)
class EnrolmentLink:
    name: str
    url: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Account:
    operator_id: int
    name: str
    role: Role
    municipality: str | None
    created_at: dt.datetime
    disabled: bool
    passkeys: int  # those that may sign in (not revoked)
    keys: tuple[Passkey, ...] = ()  # every passkey, the revoked too, oldest first


_EXISTS = Sql("SELECT id FROM console_operators WHERE name = :name")
_ADD = Sql(
    "INSERT INTO console_operators (name, role, municipality, user_handle, created_at) "
    "VALUES (:name, :role, :municipality, :user_handle, :now)"
)
# the link's account named, so an unknown or disabled account refuses the insert itself
_LINK = Sql(
    "INSERT INTO console_enrolments (token_hash, operator_id, created_at, expires_at) "
    "SELECT :token_hash, id, :now, :expires_at FROM console_operators "
    "WHERE name = :name AND disabled_at IS NULL"
)
_DISABLE = Sql("UPDATE console_operators SET disabled_at = :now WHERE name = :name AND disabled_at IS NULL")
_LIST = Sql(
    "SELECT o.id, o.name, o.role, o.municipality, o.created_at, o.disabled_at, "
    "(SELECT COUNT(*) FROM console_credentials c WHERE c.operator_id = o.id AND c.revoked_at IS NULL) "
    "AS passkeys FROM console_operators o ORDER BY o.name"
)
_KEYS = Sql(
    "SELECT c.operator_id, c.credential_id, c.created_at, c.last_used_at, c.revoked_at "
    "FROM console_credentials c ORDER BY c.operator_id, c.created_at, c.credential_id"
)
_KEYS_OF = Sql(
    "SELECT c.credential_id, c.revoked_at FROM console_credentials c "
    "JOIN console_operators o ON o.id = c.operator_id WHERE o.name = :name"
)
_REVOKE = Sql(
    "UPDATE console_credentials SET revoked_at = :now WHERE credential_id = :credential_id "
    "AND revoked_at IS NULL"
)
_END_SESSIONS = Sql(
    "UPDATE console_sessions SET ended_at = :now WHERE credential_id = :credential_id AND ended_at IS NULL"
)


class Accounts(ConsolePart):
    """The accounts of the console, on the center's database; every change through ``writer``."""

    async def add(
        self, name: str, role: Role | str, municipality: str | None, *, actor: str
    ) -> EnrolmentLink:
        """A new account and its first enrolment link. Municipal staff need their municipality;
        the other roles have none."""
        name = _checked_name(name)
        try:
            role = Role(role)
        except ValueError:
            raise AccountRefused("bad_role", f"the role is one of {', '.join(Role)}") from None
        if role is Role.MUNICIPAL:
            if municipality is None:
                raise AccountRefused("municipality_required", "municipal staff need their municipality")
            try:
                municipality = validate_municipality_code(municipality)
            except ValueError as error:
                raise AccountRefused("bad_municipality", str(error)) from None
        elif municipality is not None:
            raise AccountRefused("municipality_not_for_role", f"a {role} account has no municipality")
        async with self.database.connection() as connection:
            if await connection.one(_EXISTS, {"name": name}) is not None:
                raise AccountRefused("operator_exists", f"an account {name!r} exists already")
        now = self.clock()
        params = {
            "name": name,
            "role": role.value,
            "municipality": municipality,
            "user_handle": secrets.token_urlsafe(32),
            "now": now,
        }
        await self.writer.record(
            AuditEntry(
                "console_operator_added", "accepted", role.value, subject=subject_of(name), actor=actor
            ),
            now,
            change=Change(_ADD, params),
        )
        return await self.new_link(name, actor=actor)

    async def new_link(self, name: str, *, actor: str) -> EnrolmentLink:
        """A new enrolment link for an account (a first passkey, another device, one lost); the
        links issued before stay valid until they are used or expire."""
        name = _checked_name(name)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock()
        expires_at = now + self.settings.enrolment_validity
        params = {"token_hash": token_hash(token), "now": now, "expires_at": expires_at, "name": name}
        unknown = AccountRefused("unknown_operator", f"no active account {name!r}")
        await self.writer.record(
            AuditEntry("console_enrolment_issued", "accepted", subject=subject_of(name), actor=actor),
            now,
            change=Change(_LINK, params, refusal=unknown),
            refused=lambda error: AuditEntry(
                "console_enrolment_issued", "refused", _code(error), subject=subject_of(name), actor=actor
            ),
        )
        return EnrolmentLink(name, self.settings.enrolment_link(token), expires_at)

    async def disable(self, name: str, *, actor: str) -> None:
        """The account may not sign in any more; its sessions end with it (a disabled account's
        session is refused at its next request)."""
        now = self.clock()
        unknown = AccountRefused("unknown_operator", f"no active account {name!r}")
        await self.writer.record(
            AuditEntry("console_operator_disabled", "accepted", subject=subject_of(name), actor=actor),
            now,
            change=Change(_DISABLE, {"name": name, "now": now}, refusal=unknown),
            refused=lambda error: AuditEntry(
                "console_operator_disabled", "refused", _code(error), subject=subject_of(name), actor=actor
            ),
        )

    async def passkey(self, name: str, label: str) -> tuple[str, bool]:
        """The credential id of ``name``'s passkey ``label`` that may still sign in, and whether it
        is the account's last; :class:`AccountRefused` (``unknown_passkey``, 404) otherwise."""
        unknown = _no_passkey(name, label)
        if not isinstance(label, str) or not LABEL.fullmatch(label):
            raise unknown
        async with self.database.connection() as connection:
            rows = await connection.all(_KEYS_OF, {"name": _checked_name(name)})
        usable = [str(row["credential_id"]) for row in rows if row["revoked_at"] is None]
        found = [credential for credential in usable if passkey_label(credential) == label]
        if len(found) != 1:
            raise unknown
        return found[0], len(usable) == 1

    async def revoke_passkey(self, name: str, label: str, *, actor: str) -> Revoked:
        """Revoke ``name``'s passkey ``label`` (audited with ``actor``; the ``detail`` names the
        label, and ``last`` when the account has no other passkey): it signs in no more, and the
        sessions opened with it end (they are refused at once, whatever this step finds)."""
        credential, last = await self.passkey(name, label)
        now = self.clock()
        detail = f"passkey {label}" + (" (last)" if last else "")
        gone = _no_passkey(name, label)
        await self.writer.record(
            AuditEntry(
                "console_passkey_revoked", "accepted", subject=subject_of(name), actor=actor, detail=detail
            ),
            now,
            change=Change(_REVOKE, {"credential_id": credential, "now": now}, refusal=gone),
            refused=lambda error: AuditEntry(
                "console_passkey_revoked",
                "refused",
                _code(error),
                subject=subject_of(name),
                actor=actor,
                detail=f"passkey {label}",
            ),
        )
        async with self.database.connection() as connection:
            ended = await connection.execute(_END_SESSIONS, {"credential_id": credential, "now": now})
        return Revoked(name, label, last, ended)

    async def listing(self) -> list[Account]:
        async with self.database.connection() as connection:
            rows = await connection.all(_LIST)
            keys: dict[int, list[Passkey]] = {}
            for key in await connection.all(_KEYS):
                keys.setdefault(int(key["operator_id"]), []).append(
                    Passkey(
                        passkey_label(str(key["credential_id"])),
                        stored_time(key["created_at"]),
                        None if key["last_used_at"] is None else stored_time(key["last_used_at"]),
                        None if key["revoked_at"] is None else stored_time(key["revoked_at"]),
                    )
                )
        return [
            Account(
                int(row["id"]),
                str(row["name"]),
                Role(row["role"]),
                row["municipality"],
                stored_time(row["created_at"]),
                row["disabled_at"] is not None,
                int(row["passkeys"]),
                tuple(keys.get(int(row["id"]), ())),
            )
            for row in rows
        ]


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise AccountRefused("bad_name", "an account name is 1-40 letters, digits, '.', '@', '-' or '_'")
    return name


def _no_passkey(name: str, label: str) -> AccountRefused:
    return AccountRefused("unknown_passkey", f"{name!r} has no passkey {label!r} to revoke", status=404)


def _code(error: CenterError) -> str:
    return error.code
