"""Every code the center's API can answer in a refusal's ``error``, with its HTTP status and what
it means: the OpenAPI description lists them (:data:`center.api.answers.ERRORS`, the application's
description). ``docs/protocol.md`` (section 7.1) has the same table with the endpoints;
``tests/test_protocol_doc.py`` checks that both name exactly the codes the code raises.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    status: int | None  # None: any status the web framework answers itself
    meaning: str
    on_the_wire: bool = True  # False: the operators' command line only


ERROR_CODES: dict[str, ErrorCode] = {
    "invalid_body": ErrorCode(400, "the body is not the JSON the route takes"),
    "invalid_base64": ErrorCode(
        400, "the certificate, the signature or the OCSP request is not unpadded base64url"
    ),
    "invalid_order": ErrorCode(400, "an item or its options are not what the municipality's format accepts"),
    "unknown_copies": ErrorCode(400, "a reported issue number is not one of this order's"),
    "wrong_amount": ErrorCode(400, "paid is not the fees of the copies printed (due says what is)"),
    "invalid_query": ErrorCode(400, "a query parameter is not one the route takes (verify, offer's source)"),
    "bad_terminal_id": ErrorCode(400, "not a terminal id (command line)", on_the_wire=False),
    "bad_municipality": ErrorCode(
        400, "not a municipality code for a store (command line)", on_the_wire=False
    ),
    "bad_chain": ErrorCode(400, "not a chain's short name (command line)", on_the_wire=False),
    "bad_stop": ErrorCode(400, "a stop's target, reason or operator is not acceptable (command line)", False),
    "bad_csr": ErrorCode(400, "not a PEM certificate signing request (enrolment)", on_the_wire=False),
    "csr_signature": ErrorCode(400, "the request's signature does not verify (enrolment)", on_the_wire=False),
    "csr_key": ErrorCode(400, "the request's key is not EC P-256 (enrolment)", on_the_wire=False),
    "csr_subject": ErrorCode(400, "the request names another terminal (enrolment)", on_the_wire=False),
    "terminal_exists": ErrorCode(409, "the terminal id is enrolled already (enrolment)", on_the_wire=False),
    "no_terminal_ca": ErrorCode(503, "the center's directory holds no terminal CA", on_the_wire=False),
    "bad_store": ErrorCode(400, "not a store's name (placing a terminal)", on_the_wire=False),
    "unsigned_request": ErrorCode(401, "a signature header is missing"),
    "bad_digest": ErrorCode(401, "the body is not the one its Content-Digest names"),
    "malformed_signature": ErrorCode(401, "the signature headers are not well-formed"),
    "bad_request_signature": ErrorCode(401, "the terminal's signature does not verify"),
    "unknown_terminal": ErrorCode(401, "the terminal is not enrolled"),
    "clock_skew": ErrorCode(401, "the signing time is more than 120 s off"),
    "replayed_request": ErrorCode(401, "this nonce was already received"),
    "terminal_suspended": ErrorCode(403, "the terminal is suspended"),
    "terminal_revoked": ErrorCode(403, "the terminal is revoked"),
    "suspended": ErrorCode(403, "service calendar: a suspension (message_ja, reopens_at)"),
    "year_end_closure": ErrorCode(403, "service calendar: the year-end closure"),
    "maintenance": ErrorCode(403, "service calendar: a maintenance window"),
    "municipality_stop": ErrorCode(403, "service calendar: the municipality stopped the service"),
    "outside_service_hours": ErrorCode(403, "service calendar: outside the service's hours"),
    "issuance_stopped": ErrorCode(
        403, "an operator stopped issuance here (交付停止): message (English) and message_ja, the reason"
    ),
    "not_found": ErrorCode(404, "no such path"),
    "unknown_session": ErrorCode(404, "no such session for this terminal"),
    "unknown_order": ErrorCode(404, "no such order for this terminal"),
    "unknown_municipality": ErrorCode(404, "no such municipality takes part in the service"),
    "no_registration": ErrorCode(404, "no usage registration of a registered domicile for this card"),
    "unknown_stop": ErrorCode(404, "no such stop of issuance (command line)", on_the_wire=False),
    "method_not_allowed": ErrorCode(405, "the path does not take this method"),
    "challenge_used": ErrorCode(409, "the session's challenge was already used"),
    "challenge_expired": ErrorCode(409, "the session's challenge expired"),
    "session_not_authenticated": ErrorCode(409, "the resident has not been authenticated in this session"),
    "session_expired": ErrorCode(409, "the card's proof is too old to order in"),
    "idempotency_conflict": ErrorCode(409, "the idempotency key was used for another order"),
    "order_voided": ErrorCode(409, "the order was voided before the municipality's answer (order_id)"),
    "order_state": ErrorCode(409, "the event cannot happen in the order's state"),
    "printed_differs": ErrorCode(409, "other copies were reported printed for this order"),
    "stop_already_lifted": ErrorCode(409, "the stop was lifted before (command line)", on_the_wire=False),
    "not_overdue": ErrorCode(409, "its terminal may still end the order (console)", on_the_wire=False),
    "order_moved": ErrorCode(409, "the order moved while a person acted on it (console)", on_the_wire=False),
    "no_void_pending": ErrorCode(
        409, "no void of this order to tell the municipality of (console)", on_the_wire=False
    ),
    "out_of_scope": ErrorCode(404, "no such order for this person (console)", on_the_wire=False),
    "entry_unknown": ErrorCode(404, "the calendar has no such entry (console)", on_the_wire=False),
    "calendar_changed": ErrorCode(
        409,
        "the calendar was saved by someone else since it was read (console, command line)",
        on_the_wire=False,
    ),
    "body_too_large": ErrorCode(413, "the body is over 64 KiB"),
    "unsupported_media_type": ErrorCode(415, "a request body is not sent as Content-Type: application/json"),
    "certificate_not_der": ErrorCode(422, "the card's certificate is not DER"),
    "certificate_not_jpki": ErrorCode(422, "the card's certificate has no RSA key"),
    "untrusted_certificate": ErrorCode(422, "not issued by a trusted JPKI user-authentication CA"),
    "certificate_not_yet_valid": ErrorCode(422, "the card's certificate is not valid yet"),
    "certificate_expired": ErrorCode(422, "the card's certificate has expired"),
    "bad_signature_length": ErrorCode(422, "the card's signature has the wrong length"),
    "bad_signature": ErrorCode(422, "the card's signature does not verify"),
    "certificate_revoked": ErrorCode(422, "the card's certificate is revoked"),
    "certificate_unknown": ErrorCode(422, "the authority does not know the certificate"),
    "refused_by_municipality": ErrorCode(
        422, "the municipality refuses for a reason about the person (sealed, order_id)"
    ),
    "certificate_not_offered": ErrorCode(422, "municipality: not issued at stores here"),
    "certificate_hours": ErrorCode(422, "municipality: outside this certificate's hours"),
    "too_many_copies": ErrorCode(422, "municipality: more copies than allowed at once"),
    "bad_options": ErrorCode(422, "municipality: the options chosen cannot be issued"),
    "my_number_not_offered": ErrorCode(422, "municipality: My Number is not printed at stores here"),
    "tax_year_not_offered": ErrorCode(422, "municipality: that tax year is not offered"),
    "tax_kind_not_offered": ErrorCode(422, "municipality: that kind of tax certificate is not offered"),
    "refused": ErrorCode(422, "a municipality's refusal that named no code"),
    "application_not_proven": ErrorCode(
        422, "the domicile municipality found the usage registration application not proven"
    ),
    "authority_unavailable": ErrorCode(503, "the JPKI authority cannot be asked"),
    "revocation_unavailable": ErrorCode(503, "the authority's revocation answer cannot be trusted"),
    "municipality_unavailable": ErrorCode(503, "the municipality cannot be reached (order_id if voided)"),
    "municipality_error": ErrorCode(503, "the municipality answered an error (order_id if voided)"),
    "municipality_not_connected": ErrorCode(503, "the municipality is not connected (order_id if voided)"),
    "heartbeat_not_kept": ErrorCode(503, "the database did not keep the heartbeat; the next one will do"),
    "http_error": ErrorCode(None, "any other refusal of the web framework itself (not expected)"),
}


def codes_of(status: int) -> list[str]:
    """The codes answered with ``status``, in the table's order."""
    return [code for code, error in ERROR_CODES.items() if error.status == status and error.on_the_wire]


def described() -> str:
    """The table of every code answered on the wire, as Markdown (for the OpenAPI description)."""
    rows = [
        f"| `{code}` | {'any' if error.status is None else error.status} | {error.meaning} |"
        for code, error in ERROR_CODES.items()
        if error.on_the_wire
    ]
    return "\n".join(["| error | HTTP | meaning |", "|---|---|---|", *rows])
