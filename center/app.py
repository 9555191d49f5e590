"""The center's HTTP API for terminals (FastAPI). Translation only: the logic is in ``service.py``.

Errors are JSON ``{"error": <stable code>, "message": <words>}`` with a 4xx status (503 only when
the JPKI authority cannot be asked). Bodies are limited to :data:`MAX_BODY` bytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from center.app_orders import add_order_routes, canonical_uuid
from center.body_limit import BodyLimit
from center.calendar import Decision, Open
from center.errors import BadRequest, CenterError, TerminalAuthError
from center.protocol import HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP
from center.service import CenterService, TerminalRequest
from center.verify_page import register_verify_page
from center.web import NO_TELEMETRY

MAX_BODY = 64 * 1024


class SessionResponse(BaseModel):
    session_id: str
    challenge: str = Field(description="base64 of the 32-byte single-use challenge")
    expires_at: dt.datetime


class ResidentProof(BaseModel):
    certificate: str = Field(max_length=12000, description="base64 DER of the user-auth certificate")
    signature: str = Field(max_length=2048, description="base64 of the card's RSA signature over the binding")


class Availability(BaseModel):
    open: bool
    reason_code: str | None = None
    message_ja: str | None = None
    message_en: str | None = None


class ResidentResponse(BaseModel):
    session_id: str
    municipality: str = Field(description="地方公共団体コード of the resident's municipality")
    certificate_types: dict[str, Availability] = Field(
        description="which certificate types can be issued now, and why not")


class AlarmReport(BaseModel):
    causes: str = Field(pattern=r"^(door|tamper|door\+tamper)$", description="what tripped")
    state: str = Field(pattern=r"^(raised|cleared)$", description="raised, or cleared by staff")


class AlarmRecorded(BaseModel):
    causes: str
    state: str


class ErrorResponse(BaseModel):
    error: str
    message: str
    message_ja: str | None = None
    reopens_at: str | None = None
    order_id: str | None = Field(default=None,
                                 description="the order a refusal voided (to report its refund)")


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 422, 503)
}


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("invalid_base64", f"{what} is not base64") from None


def _session_id(text: str) -> str:
    """Session ids are the center's own UUIDs: anything else names no session and is refused
    here, before the database sees it (PostgreSQL refuses to store an id longer than the column,
    or one with NUL, in the audit log)."""
    return canonical_uuid(text, "session")


SIGNATURE_SCHEMES = {
    header.replace("X-Koufu-", "terminal").replace("-", ""): {
        "type": "apiKey", "in": "header", "name": header,
        "description": "every terminal request carries all four (see docs/center.md, request signing)"}
    for header in (HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
}
SIGNED: dict[str, Any] = {"security": [{name: [] for name in SIGNATURE_SCHEMES}]}


def _json(answer: BaseModel, status: int = 200) -> Response:
    """``answer`` as the body (the route's ``response_model`` only describes it in the OpenAPI)."""
    return Response(answer.model_dump_json(exclude_none=True), status_code=status,
                    media_type="application/json")


def _error(error: CenterError) -> Response:
    return _json(ErrorResponse(error=error.code, message=error.message, **error.details), error.status)


def _terminal_request(request: Request, body: bytes) -> TerminalRequest:
    """What a terminal's signature covers, as received (checked in the service)."""
    routed: str = request.scope["path"]  # percent-decoded
    if not (routed.isascii() and routed.isprintable()):
        # The signed text is ASCII, one field a line; and ``request.url.path`` silently drops
        # tabs and line breaks. No signature can cover such a path.
        raise TerminalAuthError("bad_request_signature",
                                "the request path is not printable ASCII, so no signature covers it")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.scope["headers"]}
    return TerminalRequest(headers, request.method, request.url.path, body)


def _proof(body: bytes) -> tuple[bytes, bytes]:
    try:
        proof = ResidentProof.model_validate_json(body)
    except ValidationError:
        raise BadRequest("invalid_body", "the request body is not valid") from None
    return _b64(proof.certificate, "certificate"), _b64(proof.signature, "signature")


def _availability(decision: Decision) -> Availability:
    if isinstance(decision, Open):
        return Availability(open=True)
    return Availability(open=False, reason_code=decision.reason_code.value,
                        message_ja=decision.message_ja, message_en=decision.message_en)


def create_app(service: CenterService) -> FastAPI:
    """The API, on the server's event loop (no worker threads). Request bodies of the signed calls
    are read as bytes (the signature covers them) and parsed only once the terminal is
    authenticated."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        housekeeping = asyncio.get_running_loop().create_task(service.keep_house(), name="housekeeping")
        yield
        housekeeping.cancel()
        await service.close()

    app = FastAPI(title="koufu certificate issuance center", version="1", responses=ERRORS,
                  lifespan=lifespan, telemetry=NO_TELEMETRY)
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    generated = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's description, with the request signature as the signed calls' security."""
        document = generated()
        document.setdefault("components", {})["securitySchemes"] = SIGNATURE_SCHEMES
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(CenterError)
    async def center_error(_request: Request, error: CenterError) -> Response:
        return _error(error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, _invalid: RequestValidationError) -> Response:
        return _error(BadRequest("invalid_body", "the request body is not valid"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _json(ErrorResponse(error=code, message=str(error.detail)), error.status_code)

    @app.get("/v1/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness; no authentication, no database (the benchmark's trivial endpoint)."""
        return {"status": "ok"}

    @app.post("/v1/sessions", status_code=201, response_model=SessionResponse, tags=["sessions"],
              openapi_extra=SIGNED)
    async def open_session(request: Request) -> Response:
        """Open a resident session: a single-use challenge bound to this session and terminal."""
        terminal_id = await service.authenticate_terminal(_terminal_request(request, await request.body()))
        opened = await service.open_session(terminal_id)
        return _json(SessionResponse(session_id=opened.session_id,
                                     challenge=base64.b64encode(opened.challenge).decode(),
                                     expires_at=opened.expires_at), 201)

    @app.post("/v1/sessions/{session_id}/resident", response_model=ResidentResponse, tags=["sessions"],
              openapi_extra={**SIGNED, "requestBody": {
                  "required": True,
                  "content": {"application/json": {"schema": ResidentProof.model_json_schema()}}}})
    async def resident(session_id: str, request: Request) -> Response:
        """The card's proof: its certificate and its signature over the session binding."""
        signed = _terminal_request(request, await request.body())
        terminal_id = await service.authenticate_terminal(signed)
        certificate, signature = _proof(signed.body)
        accepted = await service.authenticate_resident(terminal_id, _session_id(session_id), certificate,
                                                       signature)
        return _json(ResidentResponse(
            session_id=accepted.session_id, municipality=accepted.municipality,
            certificate_types={kind.value: _availability(decision)
                               for kind, decision in accepted.certificate_types.items()}))

    @app.post("/v1/terminal/alarms", response_model=AlarmRecorded, tags=["terminals"],
              openapi_extra={**SIGNED, "requestBody": {
                  "required": True,
                  "content": {"application/json": {"schema": AlarmReport.model_json_schema()}}}})
    async def terminal_alarm(request: Request) -> Response:
        """The terminal's maintenance door opened outside maintenance mode or its tamper switch
        tripped (``raised``: it is out of service), or staff cleared the alarm (``cleared``)."""
        signed = _terminal_request(request, await request.body())
        terminal_id = await service.authenticate_terminal(signed)
        try:
            report = AlarmReport.model_validate_json(signed.body)
        except ValidationError:
            raise BadRequest("invalid_body", "the request body is not valid") from None
        await service.terminal_alarm(terminal_id, report.causes, report.state)
        return _json(AlarmRecorded(causes=report.causes, state=report.state))

    add_order_routes(app, service, SIGNED)
    register_verify_page(app, service)
    return app


def app_from_environment() -> FastAPI:
    """uvicorn factory (``center.app:app_from_environment``): config from ``KOUFU_CENTER_DIR``."""
    from center.config import CenterConfig

    config = CenterConfig.load(Path(os.environ["KOUFU_CENTER_DIR"]))
    return create_app(config.build_service())
