"""The municipal issuance server's HTTP API (FastAPI): translation only.

Every call but ``/v1/health`` must be signed by a center key the municipality trusts
(:mod:`center.bridge_protocol`) and is accepted once (its nonce is recorded):

- ``POST /v1/offer``: what the card's holder can have now (:mod:`center.municipal.offers`): the
  public part and the personal part sealed to the terminal (200), or why not (422).
- ``POST /v1/issue``: an :class:`~center.municipal.requests.IssueRequest`; answers the sealed
  copies (200), a refusal with its code and words (422), or why the request cannot be served.
- ``POST /v1/orders/{order_id}/printed`` ``{"issue_numbers": [...]}``: the copies came out.
- ``POST /v1/orders/{order_id}/void`` ``{"reason": "..."}``: the order is cancelled (廃棄).

Errors are ``{"error": code, "message": English, "message_ja": Japanese (refusals)}``. The
access log holds methods, paths and statuses: order ids, never anything about a person. The
database work runs in worker threads (SQLAlchemy's synchronous engine).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from center import bridge_protocol
from center.body_limit import BodyLimit
from center.municipal.issuer import (
    IssuanceError,
    NotConfigured,
    OrderConflict,
    StatusConflict,
    UnknownOrder,
    UntrustedTerminal,
)
from center.municipal.offers import OfferRequest, make_offer
from center.municipal.refusals import Refused
from center.municipal.requests import BadIssueRequest, IssueRequest
from center.municipal.service import MunicipalServer
from center.protocol import b64url
from center.web import NO_TELEMETRY

MAX_BODY = 64 * 1024
T = TypeVar("T")
_STATUS = {OrderConflict: 409, StatusConflict: 409, UnknownOrder: 404, UntrustedTerminal: 403,
           NotConfigured: 503}


def _error(status: int, code: str, message: str, **more: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **more}, status_code=status)


class _Refusal(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def create_app(server: MunicipalServer) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        server.close()

    app = FastAPI(title=f"koufu municipal issuance server {server.municipality}", version="1",
                  lifespan=lifespan, telemetry=NO_TELEMETRY)
    app.add_middleware(BodyLimit, limit=MAX_BODY)

    @app.exception_handler(_Refusal)
    async def refused(_request: Request, refusal: _Refusal) -> JSONResponse:
        return refusal.response

    async def signed_body(request: Request) -> Any:
        """The request's JSON body, once its center signature verifies and its nonce is new."""
        body = await request.body()
        now = server.issuer.clock()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            verified = bridge_protocol.verify(headers, server.center_keys, server.municipality,
                                              request.method, request.url.path, body, now)
        except bridge_protocol.BridgeAuthError as error:
            raise _Refusal(_error(401, error.code, str(error))) from None
        if not await run_in_threadpool(server.record_nonce, verified.nonce, now):
            raise _Refusal(_error(401, "replayed_request", "this request was already received"))
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _Refusal(_error(400, "bad_request", "the body is not JSON")) from None

    async def served(work: Callable[[], T]) -> T:
        """``work`` in a worker thread; what it refuses, as the answer."""
        try:
            return await run_in_threadpool(work)
        except BadIssueRequest as error:
            raise _Refusal(_error(400, "bad_request", str(error))) from None
        except Refused as refusal:
            raise _Refusal(_error(422, refusal.code.value, refusal.message_en,
                                  message_ja=refusal.message_ja)) from None
        except IssuanceError as error:
            raise _Refusal(_error(_STATUS.get(type(error), 400), error.code, str(error))) from None

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "municipality": server.municipality}

    @app.post("/v1/issue")
    async def issue(request: Request) -> JSONResponse:
        document = await signed_body(request)
        issued = await served(lambda: server.issuer.issue(IssueRequest.from_json(document)))
        return JSONResponse({
            "order_id": issued.order_id, "fee": issued.fee,
            "copies": [{"item": copy.item, "copy": copy.copy, "issue_number": copy.issue_number,
                        "pages": copy.pages, "fee": copy.fee, "content_hash": copy.content_hash,
                        "code_hash": copy.code_hash,
                        "sealed": b64url(copy.sealed)} for copy in issued.copies]})

    @app.post("/v1/offer")
    async def offer(request: Request) -> JSONResponse:
        """What the card's holder can have now: the public part, and the personal part sealed to
        the terminal."""
        document = await signed_body(request)
        offered = await served(lambda: make_offer(server.issuer, OfferRequest.from_json(document)))
        return JSONResponse({**offered.public, "sealed": b64url(offered.sealed)})

    @app.post("/v1/orders/{order_id}/printed")
    async def printed(order_id: str, request: Request) -> JSONResponse:
        document = await signed_body(request)
        numbers = document.get("issue_numbers") if isinstance(document, dict) else None
        if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
            return _error(400, "bad_request", "issue_numbers: a non-empty list of issue numbers")
        await served(lambda: server.issuer.printed(order_id, numbers))
        return JSONResponse({"order_id": order_id, "printed": numbers})

    @app.post("/v1/orders/{order_id}/void")
    async def void(order_id: str, request: Request) -> JSONResponse:
        document = await signed_body(request)
        reason = document.get("reason") if isinstance(document, dict) else None
        if not isinstance(reason, str) or not 1 <= len(reason) <= 200:
            return _error(400, "bad_request", "reason: 1-200 characters")
        voided = await served(lambda: server.issuer.void(order_id, reason))
        return JSONResponse({"order_id": order_id, "voided": voided,
                             "at": dt.datetime.now(dt.UTC).isoformat()})

    return app
