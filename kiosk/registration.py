"""The usage registration of a registered domicile (本籍地の利用登録), the kiosk's side: the
application the resident signs with their card's signing key, sealed to the domicile municipality,
the OCSP question about the signing certificate, and the registration's status as the
municipality sealed it back to this terminal.

:func:`build_application` makes what the kiosk sends (``docs/protocol.md``, the usage
registration): the application's bytes (:func:`documents.registration.application_bytes`) are
signed by the card (:class:`hardware.card.signing.SignedMessage`); the application, the signature
and the signing certificate are sealed to the municipality's verified sealing key
(:func:`documents.seal_to_municipality`), which alone reads them (they name the resident); the
center gets the sealed bytes and the OCSP request (RFC 6960: one SHA-1 CertID, the signing CA
certificate read from the card as its issuer, no extension), which names only the serial.

:class:`RegistrationView` is the status as the steps read it (申請中, 登録済み, 不承認, 停止中).
Nothing here is kept beyond the session: :class:`kiosk.center_link.KioskSession` holds it and drops
it at :meth:`~kiosk.center_link.KioskSession.forget`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from documents import SealingKey, seal_to_municipality
from documents.registration import MAX_DOMICILE, MAX_HEAD, application_bytes, sealed_application
from hardware.card.signing import SignedMessage
from kiosk.errors import KioskError

Source = Literal["residence", "domicile"]  # whom an offer and an order go to: 住所地 or 本籍地
SOURCES: tuple[Source, ...] = ("residence", "domicile")
STATUSES = ("pending", "approved", "denied", "suspended")


class ApplicationRefused(KioskError):
    """The application cannot be made as typed (``code``: ``domicile_length``, ``head_length``,
    ``malformed_application`` (e.g. a control character), ``unknown_municipality``): nothing was
    signed or sent. The message never holds what was typed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class Application:
    """What the kiosk sends the center for one application: the municipality, the envelope
    sealed to it, the OCSP request about the signing certificate."""

    municipality: str
    sealed: bytes
    ocsp_request: bytes

    def __repr__(self) -> str:
        return f"Application({self.municipality}, {len(self.sealed)} bytes sealed)"


def check_typed(domicile: str, head: str) -> None:
    """The 本籍 (1-100 characters) and the 筆頭者 (1-40) as the resident typed them:
    :class:`ApplicationRefused` before the card is asked for anything."""
    if not isinstance(domicile, str) or not 0 < len(domicile.strip()) <= MAX_DOMICILE:
        raise ApplicationRefused("domicile_length", f"the registered domicile is 1-{MAX_DOMICILE} characters")
    if not isinstance(head, str) or not 0 < len(head.strip()) <= MAX_HEAD:
        raise ApplicationRefused("head_length", f"the head of the family register is 1-{MAX_HEAD} characters")


def application_of(
    *,
    municipality: str,
    session_id: str,
    terminal_id: str,
    challenge: bytes,
    auth_serial: int,
    domicile: str,
    head: str,
) -> bytes:
    """The application's bytes (deterministic CBOR, ``koufu-registration-application/1``): what
    the card signs."""
    check_typed(domicile, head)
    try:
        return application_bytes(
            municipality=municipality,
            session_id=session_id,
            terminal_id=terminal_id,
            challenge=challenge,
            auth_serial=auth_serial,
            domicile=domicile,
            head=head,
        )
    except ValueError as error:  # names the field, never its value
        raise ApplicationRefused("malformed_application", str(error)) from None


def sealed_content(application: bytes, signed: SignedMessage) -> dict[str, str]:
    """The content sealed to the municipality: the application, the card's signature over it and
    the signing certificate, each base64url."""
    return sealed_application(application, signed.signature, signed.certificate.der)


def signing_ocsp_request(signed: SignedMessage) -> bytes:
    """RFC 6960 request (DER) for the signing certificate: one CertID with SHA-1 hashes of the
    issuer's name and key, the issuer the signing CA certificate read from the card; no nonce,
    no extension (the center sends it to the authority as it is)."""
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(signed.certificate.certificate, signed.ca_certificate.certificate, hashes.SHA1())
        .build()
    )
    return request.public_bytes(serialization.Encoding.DER)


def build_application(
    application: bytes, signed: SignedMessage, sealing_key: SealingKey, *, session_id: str, terminal_id: str
) -> Application:
    """The signed ``application`` sealed to the municipality of ``sealing_key`` (verified), bound
    to the session and the terminal, with the OCSP request."""
    sealed = seal_to_municipality(
        sealed_content(application, signed), sealing_key, session_id=session_id, terminal_id=terminal_id
    )
    return Application(sealing_key.municipality, sealed, signing_ocsp_request(signed))


@dataclass(frozen=True)
class RegistrationView:
    """A usage registration's status (利用登録の状況) as its municipality sealed it to this
    terminal: ``pending`` (申請中, ``approves_at`` the expected day), ``approved`` (登録済み),
    ``denied`` (不承認: ``reason`` and its words; the resident may apply again) or ``suspended``
    (停止中: the signing certificate was revoked)."""

    municipality: str
    name: str
    name_en: str
    status: str
    applied_at: dt.datetime
    approves_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    reason: str | None = None
    message_ja: str | None = None
    message_en: str | None = None

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def may_apply(self) -> bool:
        """Whether the resident may apply (again) now: only after a denial."""
        return self.status == "denied"

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> RegistrationView:
        """From the opened statement's content (``koufu-registration/1``); :class:`KioskError` if
        it is not one (a broken municipality: shown as a failure, never half)."""
        try:
            status = content["status"]
            if status not in STATUSES:
                raise ValueError("status")
            return cls(
                municipality=_text(content["municipality"]),
                name=_text(content["name"]),
                name_en=_text(content["name_en"]),
                status=status,
                applied_at=_moment(content["applied_at"]),
                approves_at=_optional(content.get("approves_at"), _moment),
                decided_at=_optional(content.get("decided_at"), _moment),
                reason=_optional(content.get("reason"), _text),
                message_ja=_optional(content.get("message_ja"), _text),
                message_en=_optional(content.get("message_en"), _text),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise KioskError(f"the registration's status is not one ({type(error).__name__})") from None

    def view(self) -> dict[str, str | None]:
        """As a screen's view takes it: plain strings (dates as ISO 8601)."""
        return {
            "municipality": self.municipality,
            "name": self.name,
            "name_en": self.name_en,
            "status": self.status,
            "applied_at": self.applied_at.isoformat(),
            "approves_at": None if self.approves_at is None else self.approves_at.isoformat(),
            "decided_at": None if self.decided_at is None else self.decided_at.isoformat(),
            "reason": self.reason,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }

    def __repr__(self) -> str:  # the status is about a person: only its kind
        return f"RegistrationView({self.municipality}, {self.status})"


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("text expected")
    return value


def _moment(value: object) -> dt.datetime:
    moment = dt.datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("a moment has its offset")
    return moment


def _optional(value: object, read: Callable[[object], Any]) -> Any:
    return None if value is None else read(value)
