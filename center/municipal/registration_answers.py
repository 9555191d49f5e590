"""The domicile municipality's two routes for usage registrations (本籍地の利用登録), from a
request to the sealed answer: ``POST /v1/registrations`` (an application, :func:`apply`) and
``POST /v1/registrations/status`` (:func:`status`).

Both check the terminal and the card's proof as every route does; both answer the registration's
id and its status sealed to the terminal (``koufu-registration/1``,
:mod:`documents.registration`), bound to the session and the card: the center relays it and
learns nothing about the person, not even whether the application was approved. A refused
application is answered the same way (its status ``denied``, the reason in words), never in clear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Self

from center.jpki_verify import MAX_OCSP_SIZE
from center.municipal.application import verify_application
from center.municipal.holder_request import CheckedHolder, HolderRequest
from center.municipal.issuer import IssuanceError, NotConfigured, load_settings
from center.municipal.registered_holder import registration_of
from center.municipal.registrations import Registration, RegistrationRefused, Registrations, Status
from center.municipal.requests import _Object
from center.municipal.service import MunicipalServer
from documents.registration import seal_registration_status
from documents.to_municipality import MAX_SEALED_BYTES


class NoRegistration(IssuanceError):
    """The card's holder has no usage registration here (nor a denied application)."""

    code = "unknown_registration"


@dataclass(frozen=True)
class StatusRequest(HolderRequest):
    """``POST /v1/registrations/status``: whose registration (the card's proof in this session)."""

    where = "registration status"


@dataclass(frozen=True)
class ApplicationRequest(HolderRequest):
    """``POST /v1/registrations``: the application sealed to this municipality, and the
    authority's OCSP answer about its signing certificate."""

    where = "registration"

    sealed: bytes
    signing_revocation: bytes

    @classmethod
    def from_json(cls, document: Any) -> Self:
        fields = _Object(document, cls.where)
        request = cls(
            *cls.fields_of(fields),
            fields.base64("sealed", MAX_SEALED_BYTES),
            fields.base64("signing_revocation", MAX_OCSP_SIZE),
        )
        fields.done()
        return request


@dataclass(frozen=True)
class RegistrationAnswer:
    registration_id: str
    sealed: bytes  # the status, sealed to the terminal


def _iso(instant: dt.datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(dt.UTC).isoformat()


def status_content(registration: Registration, municipality: str, name: str, name_en: str) -> dict[str, Any]:
    """What the kiosk is told of ``registration`` (``koufu-registration/1``'s content)."""
    reason = registration.denial_reason if registration.status is Status.DENIED else None
    return {
        "municipality": municipality,
        "name": name,
        "name_en": name_en,
        "status": registration.status.value,
        "applied_at": _iso(registration.applied_at),
        "approves_at": _iso(registration.approves_at),
        "decided_at": _iso(registration.decided_at),
        "reason": None if reason is None else reason.value,
        "message_ja": None if reason is None else reason.message_ja,
        "message_en": None if reason is None else reason.message_en,
    }


def _sealed_answer(
    server: MunicipalServer, registration: Registration, request: HolderRequest, checked: CheckedHolder
) -> RegistrationAnswer:
    with server.engine.connect() as connection:
        settings = load_settings(connection)
    content = status_content(registration, settings.municipality, settings.name, settings.name_en)
    sealed = seal_registration_status(
        content,
        key=server.key,
        session_id=request.session_id,
        terminal_id=request.terminal_id,
        holder_certificate=checked.proven.certificate_hash,
        terminal_public_key=checked.terminal_key,
        now=checked.now,
    )
    return RegistrationAnswer(registration.id, sealed)


def apply(server: MunicipalServer, request: ApplicationRequest) -> RegistrationAnswer:
    """The application (利用登録申請) checked and recorded: its registration's status sealed to
    the terminal (the registration the card is already known by, if it has a live one)."""
    checked = request.check(server.issuer)
    proven = checked.proven
    if server.sealing_key is None:
        raise NotConfigured("this municipality has no sealing key: applications cannot be opened")
    verified = verify_application(
        request.sealed,
        request.signing_revocation,
        proof=request.holder_proof,
        proven=proven,
        session_id=request.session_id,
        terminal_id=request.terminal_id,
        municipality=server.municipality,
        sealing_key=server.sealing_key,
        signing_anchors=server.signing_anchors,
        now=checked.now,
    )
    registrations = Registrations(server.engine, server.issuer.clock)
    registration = registration_of(registrations, proven)
    if registration is None:
        try:
            registration = registrations.apply(
                verified.applicant, verified.application.domicile, verified.application.head, proven.serial
            )
        except RegistrationRefused as refused:
            registration = registrations.get(refused.registration_id)
    return _sealed_answer(server, registration, request, checked)


def status(server: MunicipalServer, request: StatusRequest) -> RegistrationAnswer:
    """The holder's registration (by the card's serial, else a renewed card's earlier one, then
    linked), or their latest denied application; else :class:`NoRegistration`."""
    checked = request.check(server.issuer)
    proven = checked.proven
    registrations = Registrations(server.engine, server.issuer.clock)
    registration = registration_of(registrations, proven) or registrations.latest_denied(
        (proven.serial, *proven.previous_serials)
    )
    if registration is None:
        raise NoRegistration("no usage registration is known for this card")
    return _sealed_answer(server, registration, request, checked)
