"""The console's accounts (運用者アカウント) and their one-time enrolment links.

An account is made with ``koufu center add-operator NAME --role …`` (or a link is issued again,
``koufu center enrolment-link NAME``, and on the Operators page): the command prints a link,
valid for a limited time (``enrolment_valid_hours``), with which the person registers a passkey in
the browser. Only the SHA-256 of the link's token is stored; the link is shown once. Making an
account, issuing a link and disabling an account are each one audited decision.
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


def subject_of(name: str) -> str:
    """How the audit log names the account a decision is about (its ``subject``)."""
    return f"operator:{name}"


def token_hash(token: str) -> str:
    """What the database keeps of a secret given to a browser (a link's token, a session id)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


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
    passkeys: int


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
    "(SELECT COUNT(*) FROM console_credentials c WHERE c.operator_id = o.id) AS passkeys "
    "FROM console_operators o ORDER BY o.name"
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

    async def listing(self) -> list[Account]:
        async with self.database.connection() as connection:
            rows = await connection.all(_LIST)
        return [
            Account(
                int(row["id"]),
                str(row["name"]),
                Role(row["role"]),
                row["municipality"],
                stored_time(row["created_at"]),
                row["disabled_at"] is not None,
                int(row["passkeys"]),
            )
            for row in rows
        ]


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise AccountRefused("bad_name", "an account name is 1-40 letters, digits, '.', '@', '-' or '_'")
    return name


def _code(error: CenterError) -> str:
    return error.code
