"""A resident's session (利用者セッション): the terminal opens it with a single-use challenge, and
the card's proof (its certificate and its signature over the session binding) authenticates the
resident in it. Both calls are signed by the terminal.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from center.api.answers import json_answer
from center.api.requests import Center, canonical_uuid, parsed
from center.api.signing import Signed, signed
from center.calendar import Decision, Open
from center.errors import BadRequest
from center.incidents import IssuanceStop
from center.messages import Availability, ResidentProof, ResidentResponse, SessionResponse
from documents import b64url_decode, b64url_encode

router = APIRouter(tags=["sessions"])


@router.post("/v1/sessions", status_code=201, response_model=SessionResponse, openapi_extra=signed())
async def open_session(call: Signed, service: Center) -> Response:
    """Open a resident session: a single-use challenge bound to this session and terminal."""
    opened = await service.open_session(call.terminal_id)
    return json_answer(
        SessionResponse(
            session_id=opened.session_id,
            challenge=b64url_encode(opened.challenge),
            expires_at=opened.expires_at,
        ),
        201,
    )


@router.post(
    "/v1/sessions/{session_id}/resident", response_model=ResidentResponse, openapi_extra=signed(ResidentProof)
)
async def resident(session_id: str, call: Signed, service: Center) -> Response:
    """The card's proof: its certificate and its signature over the session binding."""
    proof = parsed(ResidentProof, call.body)
    certificate, signature = _b64(proof.certificate, "certificate"), _b64(proof.signature, "signature")
    accepted = await service.authenticate_resident(
        call.terminal_id, canonical_uuid(session_id, "session"), certificate, signature
    )
    return json_answer(
        ResidentResponse(
            session_id=accepted.session_id,
            municipality=accepted.municipality,
            certificate_types={
                kind.value: availability(decision, accepted.stopped.get(kind))
                for kind, decision in accepted.certificate_types.items()
            },
        )
    )


def _b64(text: str, what: str) -> bytes:
    """Unpadded base64url, as every binary value of the protocol: padding, the standard alphabet's
    ``+`` and ``/`` or stray bits are ``invalid_base64``."""
    try:
        return b64url_decode(text)
    except ValueError:
        raise BadRequest("invalid_base64", f"{what} is not unpadded base64url") from None


def availability(decision: Decision, stop: IssuanceStop | None) -> Availability:
    """Whether a certificate type can be issued now: the calendar's closure is said first, then
    an operator's stop (交付停止)."""
    if isinstance(decision, Open):
        if stop is None:
            return Availability(open=True)
        return Availability(
            open=False,
            reason_code=stop.refusal().code,
            message_ja=stop.reason.ja,
            message_en=stop.reason.en,
        )
    return Availability(
        open=False,
        reason_code=decision.reason_code.value,
        message_ja=decision.message_ja,
        message_en=decision.message_en,
    )
