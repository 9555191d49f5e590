"""The registered domicile (本籍地の利用登録) and the issuance record (交付履歴), as a terminal asks
for them in an authenticated session (the logic is in ``registration_relay.py``). Every answer
about the person is sealed by the municipality to the terminal: relayed, never read.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from center.api.answers import json_answer
from center.api.requests import Center, canonical_uuid, parsed
from center.api.signing import Signed, signed
from center.errors import BadRequest
from center.messages import (
    IssuanceRecordResponse,
    RegistrationApplication,
    RegistrationResponse,
    SealedRecord,
)
from center.registration_relay import RegistrationRelayed
from documents import b64url_decode

router = APIRouter(tags=["registrations"])


def _answer(relayed: RegistrationRelayed) -> Response:
    return json_answer(
        RegistrationResponse(
            municipality=relayed.municipality,
            name=relayed.name,
            name_en=relayed.name_en,
            sealed=relayed.sealed,
        )
    )


@router.post(
    "/v1/sessions/{session_id}/registration",
    response_model=RegistrationResponse,
    openapi_extra=signed(RegistrationApplication),
)
async def apply(session_id: str, call: Signed, service: Center) -> Response:
    """The session holder's usage registration application (利用登録申請), sealed to the domicile
    municipality, with an OCSP request about the card's signing certificate: relayed with the
    authority's answer to it; the registration's status, sealed to this terminal."""
    application = parsed(RegistrationApplication, call.body)
    try:
        question = b64url_decode(application.signing_ocsp_request)
    except ValueError:
        raise BadRequest("invalid_base64", "signing_ocsp_request is not unpadded base64url") from None
    relayed = await service.registrations.apply(
        call.terminal_id,
        canonical_uuid(session_id, "session"),
        application.municipality,
        application.sealed,
        question,
    )
    return _answer(relayed)


@router.get(
    "/v1/sessions/{session_id}/registration", response_model=RegistrationResponse, openapi_extra=signed()
)
async def registration(session_id: str, call: Signed, service: Center) -> Response:
    """The usage registration the session's holder is known by (their renewed card's too), as
    its domicile municipality answers now, sealed to this terminal; ``no_registration`` if none."""
    return _answer(
        await service.registrations.status(call.terminal_id, canonical_uuid(session_id, "session"))
    )


@router.get(
    "/v1/sessions/{session_id}/issuance-record", response_model=IssuanceRecordResponse, openapi_extra=signed()
)
async def issuance_record(session_id: str, call: Signed, service: Center) -> Response:
    """The holder's issuances of the last 12 months at their residence municipality and, if
    registered, their domicile's, each sealed to this terminal; a municipality that cannot be
    asked now is listed in ``unavailable``. Nothing is kept."""
    found = await service.registrations.issuance_record(
        call.terminal_id, canonical_uuid(session_id, "session")
    )
    return json_answer(
        IssuanceRecordResponse(
            records=[SealedRecord(municipality=code, sealed=sealed) for code, sealed in found.records],
            unavailable=list(found.unavailable),
        )
    )
