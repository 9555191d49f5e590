"""The municipal issuance server's HTTP API (FastAPI): translation only.

Every call but ``/v1/health`` and ``/v1/sealing-key`` must be signed by a center key the municipality trusts
(:mod:`center.bridge_protocol`) and is accepted once (its nonce is recorded):

- ``GET /v1/sealing-key``: the statement of its sealing key, signed by the municipality
  (:mod:`documents.sealing_key`), for the center to collect and hand to terminals; unsigned, as it
  is public and carries its own signature (404 ``no_sealing_key`` if it has none yet).
- ``POST /v1/offer``: what the card's holder can have now (:mod:`center.municipal.offers`): the
  public part and the personal part sealed to the terminal (200), or why not (422).
- ``POST /v1/issue``: an :class:`~center.municipal.requests.IssueRequest`; answers the sealed
  copies (200, :class:`~center.bridge_messages.IssueAnswer`), a refusal (422: about the person,
  ``refused_by_municipality`` with the detailed reason ``sealed`` to the terminal; else its code
  and words), or why the request cannot be served.
- ``POST /v1/registrations``: a usage registration application (本籍地の利用登録申請,
  :mod:`center.municipal.registration_answers`): checked (:mod:`center.municipal.application`,
  else 403 ``application_not_proven``) and recorded; ``POST /v1/registrations/status``: the card
  holder's registration (404 ``unknown_registration``). Both answer ``{"registration_id",
  "sealed"}``, the status sealed to the terminal, a refused application's too.
- ``POST /v1/orders/{order_id}/printed`` ``{"issue_numbers": [...]}``: the copies came out.
- ``POST /v1/orders/{order_id}/void`` ``{"reason": "..."}``: the order is cancelled (廃棄).
- ``POST /v1/issuance-record``: the card holder's own issuance record (交付履歴の確認,
  :mod:`center.municipal.own_record`), sealed to the terminal: ``{"sealed"}`` (200).

Errors are ``{"error": code, "message": English, "message_ja": Japanese (refusals)}``, the
router's own too (``not_found``, ``method_not_allowed``). The
access log holds methods, paths and statuses: order ids, never anything about a person. The
database work runs in worker threads (SQLAlchemy's synchronous engine). The routes are one router
that finds the server in ``app.state``; the center's signature is one dependency
(:data:`SignedDocument`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from center import bridge_protocol
from center.body_limit import BodyLimit
from center.bridge_messages import IssueAnswer, IssuedCopy
from center.json_body import declares_json
from center.municipal.application import ApplicationNotProven
from center.municipal.issuer import (
    IssuanceError,
    NotConfigured,
    OrderConflict,
    OrderVoided,
    StatusConflict,
    UnknownOrder,
    UnprovenHolder,
    UntrustedTerminal,
)
from center.municipal.offers import OfferRequest, make_offer
from center.municipal.own_record import RecordRequest, make_record
from center.municipal.refusals import GENERIC_EN, GENERIC_JA, Refused
from center.municipal.registration_answers import (
    ApplicationRequest,
    NoRegistration,
    RegistrationAnswer,
    StatusRequest,
)
from center.municipal.registration_answers import apply as apply_for_registration
from center.municipal.registration_answers import status as registration_status
from center.municipal.requests import BadIssueRequest, IssueRequest
from center.municipal.service import MunicipalServer
from center.signing import Target, field_values
from center.web import NO_TELEMETRY
from center.web_errors import ROUTER_REFUSALS, ErrorAnswer, Refusal, Translation, answer_errors
from documents import b64url_encode
from documents.refusal import GENERIC_REFUSAL

MAX_BODY = 64 * 1024
_STATUS = {
    OrderConflict: 409,
    OrderVoided: 409,
    StatusConflict: 409,
    UnknownOrder: 404,
    UnprovenHolder: 403,  # the card's proof does not authorize this session's business
    ApplicationNotProven: 403,  # a usage registration application not proven the holder's
    NoRegistration: 404,
    UntrustedTerminal: 403,
    NotConfigured: 503,
}

router = APIRouter()


async def municipal_server(request: Request) -> MunicipalServer:
    """The server the application was made with (``create_app`` keeps it in ``app.state``)."""
    server: MunicipalServer = request.app.state.server
    return server


Server = Annotated[MunicipalServer, Depends(municipal_server)]


async def signed_document(request: Request, server: Server) -> Any:
    """The request's JSON body, once its center signature verifies and its nonce is new; it must
    be declared JSON (:mod:`center.json_body`), and may be in any valid form."""
    body = await request.body()
    now = server.issuer.clock()
    headers = field_values(request.headers.items())
    target = Target(request.method, request.url.path, "?" + request.scope["query_string"].decode("latin-1"))
    verified = bridge_protocol.verify(headers, server.center_keys, server.municipality, target, body, now)
    if not await run_in_threadpool(server.record_nonce, verified.nonce, now):
        raise Refusal(401, "replayed_request", "this request was already received")
    if body and not declares_json(headers.get("content-type")):
        raise Refusal(
            415, "unsupported_media_type", "a request body must be sent as Content-Type: application/json"
        )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "bad_request", "the body is not JSON") from None


SignedDocument = Annotated[Any, Depends(signed_document)]


@router.get("/v1/health")
async def health(server: Server) -> dict[str, str]:
    return {"status": "ok", "municipality": server.municipality}


@router.get("/v1/sealing-key")
async def sealing_key(server: Server) -> JSONResponse:
    """The municipality's sealing key statement (base64url of the COSE_Sign1's bytes)."""
    try:
        statement = await run_in_threadpool(server.sealing_statement, server.issuer.clock())
    except ValueError as error:  # its settings (e.g. a prefecture not the code's) cannot be stated
        raise Refusal(503, "not_configured", f"the sealing key cannot be stated: {error}") from None
    if statement is None:
        raise Refusal(404, "no_sealing_key", "this municipality has no sealing key yet")
    return JSONResponse({"municipality": server.municipality, "statement": b64url_encode(statement)})


@router.post("/v1/issue")
async def issue(document: SignedDocument, server: Server) -> JSONResponse:
    issued = await run_in_threadpool(lambda: server.issuer.issue(IssueRequest.from_json(document)))
    return JSONResponse(
        IssueAnswer(
            order_id=issued.order_id,
            fee=issued.fee,
            copies=tuple(
                IssuedCopy(
                    item=copy.item,
                    copy=copy.copy,
                    issue_number=copy.issue_number,
                    pages=copy.pages,
                    fee=copy.fee,
                    content_hash=copy.content_hash,
                    code_hash=copy.code_hash,
                    sealed=b64url_encode(copy.sealed),
                )
                for copy in issued.copies
            ),
        ).to_json()
    )


@router.post("/v1/offer")
async def offer(document: SignedDocument, server: Server) -> JSONResponse:
    """What the card's holder can have now: the public part, and the personal part sealed to
    the terminal."""
    offered = await run_in_threadpool(lambda: make_offer(server.issuer, OfferRequest.from_json(document)))
    return JSONResponse({**offered.public, "sealed": b64url_encode(offered.sealed)})


def _registration(answer: RegistrationAnswer) -> JSONResponse:
    return JSONResponse({"registration_id": answer.registration_id, "sealed": b64url_encode(answer.sealed)})


@router.post("/v1/registrations")
async def registrations(document: SignedDocument, server: Server) -> JSONResponse:
    """A usage registration application: its status, sealed to the terminal."""
    request = ApplicationRequest.from_json(document)
    return _registration(await run_in_threadpool(apply_for_registration, server, request))


@router.post("/v1/registrations/status")
async def registrations_status(document: SignedDocument, server: Server) -> JSONResponse:
    """The card holder's usage registration here: its status, sealed to the terminal."""
    request = StatusRequest.from_json(document)
    return _registration(await run_in_threadpool(registration_status, server, request))


@router.post("/v1/orders/{order_id}/printed")
async def printed(order_id: str, document: SignedDocument, server: Server) -> JSONResponse:
    numbers = document.get("issue_numbers") if isinstance(document, dict) else None
    if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
        raise Refusal(400, "bad_request", "issue_numbers: a non-empty list of issue numbers")
    await run_in_threadpool(server.issuer.printed, order_id, numbers)
    return JSONResponse({"order_id": order_id, "printed": numbers})


@router.post("/v1/orders/{order_id}/void")
async def void(order_id: str, document: SignedDocument, server: Server) -> JSONResponse:
    reason = document.get("reason") if isinstance(document, dict) else None
    if not isinstance(reason, str) or not 1 <= len(reason) <= 200:
        raise Refusal(400, "bad_request", "reason: 1-200 characters")
    numbers = document.get("issue_numbers")
    if numbers is not None and (
        not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers)
    ):
        raise Refusal(400, "bad_request", "issue_numbers: absent (every copy), or a non-empty list")
    voided = await run_in_threadpool(server.issuer.void, order_id, reason, numbers)
    return JSONResponse({"order_id": order_id, "voided": voided, "at": dt.datetime.now(dt.UTC).isoformat()})


# -- the holder's own issuance record (交付履歴の確認) ------------------------------------------------


@router.post("/v1/issuance-record")
async def issuance_record(document: SignedDocument, server: Server) -> JSONResponse:
    """Every copy issued here with the card's holder's cards in the last twelve months, sealed
    to the terminal (an empty record for a holder unknown here: never an error that says so)."""
    sealed = await run_in_threadpool(lambda: make_record(server.issuer, RecordRequest.from_json(document)))
    return JSONResponse({"sealed": b64url_encode(sealed)})


def _unsigned(_request: Request, error: bridge_protocol.BridgeAuthError) -> ErrorAnswer:
    """Not from the center: no signature, a wrong one, or too old."""
    return ErrorAnswer(401, error.code, {"message": str(error)})


def _malformed(_request: Request, error: BadIssueRequest) -> ErrorAnswer:
    return ErrorAnswer(400, "bad_request", {"message": str(error)})


def _refused(_request: Request, refusal: Refused) -> ErrorAnswer:
    """The municipality issues nothing. A reason about the person: the generic code and words
    (the center's to keep) and the reason sealed to the terminal (``sealed``, base64url); a
    reason of the settings or the order: its code and words for the kiosk."""
    if refusal.personal:  # unsealed (no terminal to seal to): the generic refusal alone
        sealed = None if refusal.sealed is None else b64url_encode(refusal.sealed)
        return ErrorAnswer(
            422, GENERIC_REFUSAL, {"message": GENERIC_EN, "message_ja": GENERIC_JA, "sealed": sealed}
        )
    return ErrorAnswer(
        422, refusal.code.value, {"message": refusal.message_en, "message_ja": refusal.message_ja}
    )


def _not_served(_request: Request, error: IssuanceError) -> ErrorAnswer:
    return ErrorAnswer(_STATUS.get(type(error), 400), error.code, {"message": str(error)})


TRANSLATIONS = (
    Translation(bridge_protocol.BridgeAuthError, _unsigned),
    Translation(BadIssueRequest, _malformed),
    Translation(Refused, _refused),
    Translation(IssuanceError, _not_served),
    ROUTER_REFUSALS,  # no such path, or not this method: the same shape as every refusal
)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    municipal: MunicipalServer = app.state.server
    municipal.close()


def create_app(server: MunicipalServer) -> FastAPI:
    app = FastAPI(
        title=f"koufu municipal issuance server {server.municipality}",
        version="1",
        lifespan=lifespan,
        telemetry=NO_TELEMETRY,
    )
    app.state.server = server
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    answer_errors(app, *TRANSLATIONS)
    app.include_router(router)
    return app
