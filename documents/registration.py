"""The usage registration for the registered domicile (本籍地の利用登録): the application a
resident makes at a kiosk (利用登録申請書) and the domicile municipality's answer about it.

**The application** (:func:`application_bytes`, :func:`read_application`) is the deterministic
CBOR of the map ``{"format": "koufu-registration-application/1", "municipality", "session_id",
"terminal_id", "challenge", "auth_serial", "domicile", "head"}`` (all text): the domicile
municipality's code, the session and terminal it is made in, the session's challenge (base64url),
the serial of the card's user-authentication certificate (decimal), and the 本籍 and 筆頭者 as
the resident typed them. The card signs these bytes with its signing key (署名用電子証明書の秘密鍵,
RSA PKCS#1 v1.5 over SHA-256), and the kiosk seals to the municipality
(:mod:`documents.to_municipality`) the content :func:`sealed_application` makes. Read strictly:
exactly those keys, each well-formed, the bytes deterministic; anything else is
:class:`~documents.errors.MalformedDocument`, whose message never quotes what was typed.

**The answer** (``koufu-registration/1``, :data:`REGISTRATION`) is a statement the municipality
signs and seals to the terminal as it does an offer (:mod:`documents.envelope`), bound to the
session, the terminal and the holder's certificate, fresh for 10 minutes. Its content
(:func:`check_status`): ``{"municipality", "name", "name_en", "status": "pending" | "approved" |
"denied" | "suspended", "applied_at", "approves_at", "decided_at", "reason", "message_ja",
"message_en"}``; times are ISO 8601 with their offset (or null), ``reason`` and the two messages
are a denial's (null otherwise).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from documents import cbor
from documents.basics import b64url_decode, b64url_encode
from documents.envelope import SealedForm, open_statement, seal_statement
from documents.errors import MalformedDocument
from documents.issue_number import is_municipality_code, is_terminal_id
from documents.keys import MunicipalKey, TrustedKey

APPLICATION_FORMAT = "koufu-registration-application/1"
MAX_APPLICATION_BYTES = 2048
MAX_SESSION_ID = 128
MAX_CHALLENGE = 64  # bytes
MAX_DOMICILE = 100  # characters of the 本籍 as typed
MAX_HEAD = 40  # characters of the 筆頭者 as typed
MAX_SERIAL_DIGITS = 49  # a serial is at most 20 bytes (RFC 5280): below 2**160
APPLICATION_KIND = "usage_registration"  # the sealed content's ``kind``
MAX_SIGNATURE = 512  # bytes: an RSA-4096 signature
MAX_SIGNING_CERTIFICATE = 8192

REGISTRATION_FORMAT = "koufu-registration/1"
MAX_REGISTRATION_BYTES = 8 * 1024
REGISTRATION_LIFETIME = dt.timedelta(minutes=10)
REGISTRATION = SealedForm(
    name="registration status",
    format=REGISTRATION_FORMAT,
    bound_to=("holder_certificate",),
    lifetime=REGISTRATION_LIFETIME,
    max_bytes=MAX_REGISTRATION_BYTES,
)
STATUSES = ("pending", "approved", "denied", "suspended")
MAX_NAME = 100
MAX_MESSAGE = 500

_APPLICATION_KEYS = frozenset(
    ("format", "municipality", "session_id", "terminal_id", "challenge", "auth_serial", "domicile", "head")
)
_SEALED_KEYS = frozenset(("kind", "application", "signature", "signing_certificate"))
_STATUS_KEYS = frozenset(
    (
        "municipality",
        "name",
        "name_en",
        "status",
        "applied_at",
        "approves_at",
        "decided_at",
        "reason",
        "message_ja",
        "message_en",
    )
)
_SERIAL = re.compile(r"[1-9][0-9]{0,48}")
_REASON = re.compile(r"[a-z0-9_]{1,40}")


@dataclass(frozen=True)
class Application:
    """A usage registration application (利用登録申請) as read from its bytes."""

    municipality: str  # the domicile municipality applied to
    session_id: str
    terminal_id: str
    challenge: bytes  # the session's challenge
    auth_serial: int  # the card's user-authentication certificate's serial
    domicile: str  # 本籍, as typed
    head: str  # 筆頭者, as typed


@dataclass(frozen=True)
class SealedApplication:
    """What the kiosk seals to the municipality: the application's bytes, the card's signature
    over them and the card's signing certificate (DER), as read from the sealed content."""

    application: bytes
    signature: bytes
    signing_certificate: bytes


def _is_text(value: object, longest: int) -> bool:
    """1 to ``longest`` characters, not blank, no control characters (全角 spaces are fine)."""
    return (
        type(value) is str
        and 0 < len(value) <= longest
        and bool(value.strip())
        and not any(unicodedata.category(char)[0] == "C" for char in value)
    )


def _check(application: Application) -> None:
    """``ValueError`` naming the first field that is not well-formed (never its value)."""
    checks = (
        ("municipality", is_municipality_code(application.municipality)),
        ("session_id", _is_text(application.session_id, MAX_SESSION_ID)),
        ("terminal_id", is_terminal_id(application.terminal_id)),
        (
            "challenge",
            type(application.challenge) is bytes and 0 < len(application.challenge) <= MAX_CHALLENGE,
        ),
        (
            "auth_serial",
            type(application.auth_serial) is int and 0 < application.auth_serial < 2**160,
        ),
        ("domicile", _is_text(application.domicile, MAX_DOMICILE)),
        ("head", _is_text(application.head, MAX_HEAD)),
    )
    for name, good in checks:
        if not good:
            raise ValueError(f"the application's {name} is not well-formed")


def application_bytes(
    *,
    municipality: str,
    session_id: str,
    terminal_id: str,
    challenge: bytes,
    auth_serial: int,
    domicile: str,
    head: str,
) -> bytes:
    """The application's bytes (what the card signs); ``ValueError`` naming a malformed field."""
    application = Application(municipality, session_id, terminal_id, challenge, auth_serial, domicile, head)
    _check(application)
    return cbor.encode(
        {
            "format": APPLICATION_FORMAT,
            "municipality": municipality,
            "session_id": session_id,
            "terminal_id": terminal_id,
            "challenge": b64url_encode(challenge),
            "auth_serial": str(auth_serial),
            "domicile": domicile,
            "head": head,
        }
    )


def read_application(data: bytes) -> Application:
    """The application ``data`` holds, if it is exactly one in its deterministic form; else
    :class:`MalformedDocument`."""
    value = cbor.decode(data, max_bytes=MAX_APPLICATION_BYTES, max_depth=1, what="application")
    if type(value) is not dict or value.keys() != _APPLICATION_KEYS:
        raise MalformedDocument("the application does not have exactly the application's fields")
    if not all(type(item) is str for item in value.values()):
        raise MalformedDocument("the application's fields are all text")
    if value["format"] != APPLICATION_FORMAT:
        raise MalformedDocument(f"the application is not {APPLICATION_FORMAT}")
    if not _SERIAL.fullmatch(value["auth_serial"]):
        raise MalformedDocument("the application's auth_serial is not a serial in decimal")
    try:
        challenge = b64url_decode(value["challenge"])
    except ValueError:
        raise MalformedDocument("the application's challenge is not unpadded base64url") from None
    application = Application(
        value["municipality"],
        value["session_id"],
        value["terminal_id"],
        challenge,
        int(value["auth_serial"]),
        value["domicile"],
        value["head"],
    )
    try:
        _check(application)
    except ValueError as error:
        raise MalformedDocument(str(error)) from None
    return application


def sealed_application(application: bytes, signature: bytes, signing_certificate: bytes) -> dict[str, str]:
    """The content the kiosk seals to the municipality (:func:`documents.to_municipality.
    seal_to_municipality`): the application, the card's signature and its signing certificate."""
    return {
        "kind": APPLICATION_KIND,
        "application": b64url_encode(application),
        "signature": b64url_encode(signature),
        "signing_certificate": b64url_encode(signing_certificate),
    }


def read_sealed_application(content: Mapping[str, Any]) -> SealedApplication:
    """The parts of a sealed application's content (as :func:`documents.to_municipality.
    open_from_terminal` opened it), each within its size; else :class:`MalformedDocument`.
    The application itself is read by :func:`read_application`."""
    if not isinstance(content, Mapping) or set(content) != _SEALED_KEYS:
        raise MalformedDocument("the sealed content is not a usage registration application")
    if content["kind"] != APPLICATION_KIND:
        raise MalformedDocument("the sealed content is not a usage registration application")
    parts: list[bytes] = []
    for name, longest in (
        ("application", MAX_APPLICATION_BYTES),
        ("signature", MAX_SIGNATURE),
        ("signing_certificate", MAX_SIGNING_CERTIFICATE),
    ):
        try:
            part = b64url_decode(content[name])
        except ValueError:
            raise MalformedDocument(f"the sealed {name} is not unpadded base64url") from None
        if not 0 < len(part) <= longest:
            raise MalformedDocument(f"the sealed {name} is not 1-{longest} bytes")
        parts.append(part)
    return SealedApplication(*parts)


# -- the answer: koufu-registration/1 -------------------------------------------------------------


def _is_time(value: object) -> bool:
    if type(value) is not str:
        return False
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return instant.tzinfo is not None


def check_status(content: Mapping[str, Any]) -> dict[str, Any]:
    """``content`` as a plain map, if it is a registration status (see the module's docstring);
    else ``ValueError`` naming the first field that is not."""
    if not isinstance(content, Mapping) or set(content) != _STATUS_KEYS:
        raise ValueError("a registration status has exactly its fields")
    denied = content["status"] == "denied"
    checks = (
        ("municipality", is_municipality_code(content["municipality"])),
        ("name", _is_text(content["name"], MAX_NAME)),
        ("name_en", _is_text(content["name_en"], MAX_NAME)),
        ("status", content["status"] in STATUSES),
        ("applied_at", _is_time(content["applied_at"])),
        ("approves_at", content["approves_at"] is None or _is_time(content["approves_at"])),
        ("decided_at", content["decided_at"] is None or _is_time(content["decided_at"])),
        (
            "reason",
            type(content["reason"]) is str and bool(_REASON.fullmatch(content["reason"]))
            if denied
            else content["reason"] is None,
        ),
        (
            "message_ja",
            _is_text(content["message_ja"], MAX_MESSAGE) if denied else content["message_ja"] is None,
        ),
        (
            "message_en",
            _is_text(content["message_en"], MAX_MESSAGE) if denied else content["message_en"] is None,
        ),
    )
    for name, good in checks:
        if not good:
            raise ValueError(f"the registration status's {name} is not well-formed")
    return dict(content)


def seal_registration_status(
    content: Mapping[str, Any],
    *,
    key: MunicipalKey,
    session_id: str,
    terminal_id: str,
    holder_certificate: str,
    terminal_public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
) -> bytes:
    """The municipality's word on one holder's usage registration, signed and sealed to the
    terminal (``ValueError`` if ``content`` is not a registration status, or another
    municipality's)."""
    checked = check_status(content)
    if checked["municipality"] != key.municipality:
        raise ValueError("a registration status is the signing municipality's")
    return seal_statement(
        REGISTRATION,
        checked,
        key=key,
        session_id=session_id,
        terminal_id=terminal_id,
        bindings={"holder_certificate": holder_certificate},
        terminal_public_key=terminal_public_key,
        now=now,
    )


def open_registration_status(
    sealed: bytes,
    *,
    terminal_id: str,
    terminal_key: ec.EllipticCurvePrivateKey,
    trust: Mapping[str, TrustedKey],
    session_id: str,
    holder_certificate: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The registration status, if it is for this terminal, session and card, signed by a
    trusted key of its municipality, fresh and well-formed; else a
    :class:`~documents.errors.DocumentError`."""
    content = open_statement(
        REGISTRATION,
        sealed,
        terminal_id=terminal_id,
        terminal_key=terminal_key,
        trust=trust,
        session_id=session_id,
        bindings={"holder_certificate": holder_certificate},
        now=now,
    )
    try:
        return check_status(content)
    except ValueError as error:
        raise MalformedDocument(str(error)) from None
