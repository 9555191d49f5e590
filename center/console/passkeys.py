"""Passkeys (パスキー): the WebAuthn ceremonies of the console, with py_webauthn (``webauthn``).

Both ceremonies are two requests. ``…/options`` stores a new ceremony (a random id, a 32-byte
challenge, what it is for, until when it may be answered) and answers the options for
``navigator.credentials.create`` or ``.get`` with the ceremony's id. ``…/verify`` takes the
browser's answer with that id: the ceremony is used up first, whatever follows (each challenge is
answered at most once), then checked in this order, each failure a type of its own:

- the ceremony is in flight (:class:`CeremonyUnknown`: never begun, used, timed out);
- the answer is about this ceremony's challenge (:class:`WrongChallenge`);
- at sign-in, the passkey is an account's (:class:`UnknownCredential`), one not disabled
  (:class:`AccountDisabled`), and it is not revoked (:class:`PasskeyRevoked`);
- the answer verifies (:class:`PasskeyNotVerified`): origin, relying party id (the console's host
  name), the user present *and verified*, the signature, the signature counter.

Registration needs a valid enrolment link (:class:`EnrolmentRefused` otherwise), which it uses
up. Passkeys are discoverable (resident keys): signing in asks for no name. A refusal about a
known account (an enrolment, a passkey found) is audited; one about nobody (an unknown passkey,
a ceremony not in flight) is not: anyone can send those.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from center.audit import AuditEntry, Change
from center.console.accounts import subject_of, token_hash
from center.console.errors import (
    AccountDisabled,
    CeremonyUnknown,
    ConsoleError,
    EnrolmentRefused,
    PasskeyNotVerified,
    PasskeyRefused,
    PasskeyRevoked,
    UnknownCredential,
    WrongChallenge,
)
from center.console.part import ConsolePart
from center.console.roles import Role
from center.console.sessions import Operator
from center.store.driver import Row, Sql, stored_time

RP_NAME = "koufu 証明書交付センター"
REGISTER, SIGN_IN = "register", "sign_in"
TRANSPORTS = frozenset(transport.value for transport in AuthenticatorTransport)
KEPT_AFTER_EXPIRY = dt.timedelta(days=1)  # ceremonies are deleted this long after they expired


@dataclass(frozen=True)
class Enrolment:
    """A valid enrolment link's account."""

    operator: Operator
    user_handle: str
    token_hash: str


_CEREMONY = Sql(
    "INSERT INTO console_ceremonies (id, purpose, challenge, token_hash, created_at, expires_at) "
    "VALUES (:id, :purpose, :challenge, :token_hash, :now, :expires_at)"
)
_PURGE = Sql("DELETE FROM console_ceremonies WHERE expires_at < :before")
_USE = Sql(
    "UPDATE console_ceremonies SET used_at = :now "
    "WHERE id = :id AND purpose = :purpose AND used_at IS NULL AND expires_at > :now"
)
_USED = Sql("SELECT challenge, token_hash FROM console_ceremonies WHERE id = :id")
_ENROLMENT = Sql(
    "SELECT e.expires_at, e.used_at, o.id, o.name, o.role, o.municipality, o.user_handle, o.disabled_at "
    "FROM console_enrolments e JOIN console_operators o ON o.id = e.operator_id "
    "WHERE e.token_hash = :token_hash"
)
_KNOWN = Sql(
    "SELECT credential_id, transports FROM console_credentials "
    "WHERE operator_id = :operator_id AND revoked_at IS NULL"
)
_SPEND_LINK = Sql(
    "UPDATE console_enrolments SET used_at = :now "
    "WHERE token_hash = :token_hash AND used_at IS NULL AND expires_at > :now"
)
_ADD_CREDENTIAL = Sql(
    "INSERT INTO console_credentials (credential_id, operator_id, public_key, sign_count, transports, "
    "created_at) VALUES (:credential_id, :operator_id, :public_key, :sign_count, :transports, :now)"
)
_CREDENTIAL = Sql(
    "SELECT c.public_key, c.sign_count, c.revoked_at, o.id, o.name, o.role, o.municipality, o.user_handle, "
    "o.disabled_at FROM console_credentials c JOIN console_operators o ON o.id = c.operator_id "
    "WHERE c.credential_id = :credential_id"
)
_COUNTED = Sql(
    "UPDATE console_credentials SET sign_count = :sign_count, last_used_at = :now "
    "WHERE credential_id = :credential_id"
)


class Passkeys(ConsolePart):
    # -- enrolment: a passkey registered through a one-time link ------------------------------

    async def enrolment(self, token: str) -> Enrolment:
        """The account of a valid enrolment link (:class:`EnrolmentRefused` otherwise)."""
        digest = token_hash(token)
        async with self.database.connection() as connection:
            row = await connection.one(_ENROLMENT, {"token_hash": digest})
        if row is None:
            raise EnrolmentRefused("enrolment_unknown", "this enrolment link is not known", status=404)
        if row["used_at"] is not None:
            raise EnrolmentRefused("enrolment_used", "this enrolment link was used already")
        if stored_time(row["expires_at"]) <= self.clock():
            raise EnrolmentRefused("enrolment_expired", "this enrolment link has expired")
        if row["disabled_at"] is not None:
            raise EnrolmentRefused("account_disabled", "the account is disabled")
        return Enrolment(_operator(row), str(row["user_handle"]), digest)

    async def registration_options(self, token: str) -> dict[str, Any]:
        """The options of ``navigator.credentials.create`` for a valid link, and the ceremony."""
        enrolment = await self.enrolment(token)
        async with self.database.connection() as connection:
            known = await connection.all(_KNOWN, {"operator_id": enrolment.operator.operator_id})
        ceremony, challenge = await self._begin(REGISTER, enrolment.token_hash)
        options = generate_registration_options(
            rp_id=self.settings.rp_id,
            rp_name=RP_NAME,
            user_name=enrolment.operator.name,
            user_id=base64url_to_bytes(enrolment.user_handle),
            user_display_name=enrolment.operator.name,
            challenge=challenge,
            timeout=self._timeout_ms(),
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[_descriptor(row) for row in known],
        )
        return {"ceremony": ceremony, "publicKey": json.loads(options_to_json(options))}

    async def register(self, ceremony: str, token: str, answer: object) -> Operator:
        """The browser's answer to :meth:`registration_options`: verified, the link used up, the
        passkey stored; the account (which is then signed in)."""
        used = await self._use(ceremony, REGISTER)
        if used["token_hash"] != token_hash(token):
            raise CeremonyUnknown("ceremony_unknown", "this ceremony is not for this enrolment link")
        enrolment = await self.enrolment(token)
        operator = enrolment.operator
        try:
            credential = _answer(answer)
            _same_challenge(credential, bytes(used["challenge"]))
            try:
                verified = verify_registration_response(
                    credential=credential,
                    expected_challenge=bytes(used["challenge"]),
                    expected_rp_id=self.settings.rp_id,
                    expected_origin=self.settings.origin,
                    require_user_verification=True,
                )
            except WebAuthnException as error:
                raise PasskeyNotVerified("passkey_not_verified", _why(error)) from None
        except PasskeyRefused as refused:
            await self._refused("console_passkey_registered", refused, operator)
            raise
        now = self.clock()
        spent = EnrolmentRefused("enrolment_used", "this enrolment link was used already")
        await self.writer.record(
            AuditEntry(
                "console_passkey_registered",
                "accepted",
                subject=subject_of(operator.name),
                actor=operator.name,
            ),
            now,
            change=Change(_SPEND_LINK, {"token_hash": enrolment.token_hash, "now": now}, refusal=spent),
            refused=lambda error: AuditEntry(
                "console_passkey_registered", "refused", error.code, subject=subject_of(operator.name)
            ),
        )
        # the link is used up first: a passkey is never stored twice for one link (a failure
        # after this point leaves the account to be given a new link)
        credential_id = bytes_to_base64url(verified.credential_id)
        async with self.database.connection() as connection:
            await connection.execute(
                _ADD_CREDENTIAL,
                {
                    "credential_id": credential_id,
                    "operator_id": operator.operator_id,
                    "public_key": verified.credential_public_key,
                    "sign_count": verified.sign_count,
                    "transports": ",".join(_transports(credential)),
                    "now": now,
                },
            )
        return dataclasses.replace(operator, credential=credential_id)

    # -- signing in --------------------------------------------------------------------------

    async def sign_in_options(self) -> dict[str, Any]:
        """The options of ``navigator.credentials.get`` (any of the console's passkeys: they are
        discoverable), and the ceremony."""
        ceremony, challenge = await self._begin(SIGN_IN, None)
        options = generate_authentication_options(
            rp_id=self.settings.rp_id,
            challenge=challenge,
            timeout=self._timeout_ms(),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return {"ceremony": ceremony, "publicKey": json.loads(options_to_json(options))}

    async def sign_in(self, ceremony: str, answer: object) -> Operator:
        """The browser's answer to :meth:`sign_in_options`, verified; the passkey's account."""
        used = await self._use(ceremony, SIGN_IN)
        credential = _answer(answer)
        _same_challenge(credential, bytes(used["challenge"]))
        credential_id = credential.get("id")
        async with self.database.connection() as connection:
            row = (
                None
                if not isinstance(credential_id, str)
                else await connection.one(_CREDENTIAL, {"credential_id": credential_id})
            )
        if row is None:
            raise UnknownCredential("unknown_credential", "this passkey is not one of the console's")
        operator = _operator(row, credential_id)
        handle = _member(credential, "response").get("userHandle")
        if handle is not None and handle != row["user_handle"]:
            raise UnknownCredential("unknown_credential", "this passkey is not one of the console's")
        try:
            if row["disabled_at"] is not None:
                raise AccountDisabled("account_disabled", "the account is disabled")
            if row["revoked_at"] is not None:
                raise PasskeyRevoked("passkey_revoked", "this passkey was revoked")
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=bytes(used["challenge"]),
                    expected_rp_id=self.settings.rp_id,
                    expected_origin=self.settings.origin,
                    credential_public_key=bytes(row["public_key"]),
                    credential_current_sign_count=int(row["sign_count"]),
                    require_user_verification=True,
                )
            except WebAuthnException as error:
                raise PasskeyNotVerified("passkey_not_verified", _why(error)) from None
        except PasskeyRefused as refused:
            await self._refused("console_sign_in", refused, operator)
            raise
        async with self.database.connection() as connection:
            await connection.execute(
                _COUNTED,
                {"credential_id": credential_id, "sign_count": verified.new_sign_count, "now": self.clock()},
            )
        return operator

    # -- ceremonies --------------------------------------------------------------------------

    async def _begin(self, purpose: str, link: str | None) -> tuple[str, bytes]:
        ceremony, challenge = secrets.token_urlsafe(32), secrets.token_bytes(32)
        now = self.clock()
        async with self.database.connection() as connection:
            await connection.execute(_PURGE, {"before": now - KEPT_AFTER_EXPIRY})
            await connection.execute(
                _CEREMONY,
                {
                    "id": ceremony,
                    "purpose": purpose,
                    "challenge": challenge,
                    "token_hash": link,
                    "now": now,
                    "expires_at": now + self.settings.ceremony_timeout,
                },
            )
        return ceremony, challenge

    async def _use(self, ceremony: str, purpose: str) -> Row:
        """The ceremony, used up now: it is answered once, whether the answer verifies or not."""
        if not isinstance(ceremony, str) or len(ceremony) > 64:
            raise CeremonyUnknown("ceremony_unknown", "no such ceremony in flight")
        async with self.database.connection() as connection, connection.transaction():
            changed = await connection.execute(
                _USE, {"id": ceremony, "purpose": purpose, "now": self.clock()}
            )
            row = await connection.one(_USED, {"id": ceremony}) if changed == 1 else None
        if row is None:
            raise CeremonyUnknown("ceremony_unknown", "no such ceremony in flight")
        return row

    async def _refused(self, event: str, refused: ConsoleError, operator: Operator) -> None:
        await self.writer.record(
            AuditEntry(event, "refused", refused.code, subject=subject_of(operator.name)), self.clock()
        )

    def _timeout_ms(self) -> int:
        return int(self.settings.ceremony_timeout.total_seconds() * 1000)


def _operator(row: Row, credential: str | None = None) -> Operator:
    return Operator(int(row["id"]), str(row["name"]), Role(row["role"]), row["municipality"], credential)


def _descriptor(row: Row) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in str(row["transports"]).split(",") if t in TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(row["credential_id"]), transports=transports)


def _answer(answer: object) -> dict[str, Any]:
    """The browser's credential as JSON (``PublicKeyCredential.toJSON()``'s shape)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("response"), dict):
        raise PasskeyRefused("malformed_answer", "the answer is not a WebAuthn credential")
    return answer


def _member(credential: dict[str, Any], name: str) -> dict[str, Any]:
    member = credential.get(name)
    return member if isinstance(member, dict) else {}


def _same_challenge(credential: dict[str, Any], challenge: bytes) -> None:
    """The challenge the authenticator's client data carries is this ceremony's."""
    text = _member(credential, "response").get("clientDataJSON")
    if not isinstance(text, str):
        raise PasskeyRefused("malformed_answer", "the answer has no client data")
    try:
        client_data = parse_client_data_json(base64url_to_bytes(text))
    except (TypeError, ValueError, WebAuthnException, AttributeError):
        raise PasskeyRefused("malformed_answer", "the answer's client data cannot be read") from None
    if not secrets.compare_digest(client_data.challenge, challenge):
        raise WrongChallenge("wrong_challenge", "the answer is about another challenge")


def _transports(credential: dict[str, Any]) -> list[str]:
    said = _member(credential, "response").get("transports")
    return [t for t in said if isinstance(t, str) and t in TRANSPORTS] if isinstance(said, list) else []


def _why(error: Exception) -> str:
    """The library's reason, short (it names what failed, never a key or a token)."""
    return str(error)[:200] or type(error).__name__
