"""The center's HTTP API for terminals (FastAPI). Translation only: the logic is in ``service.py``.

Errors are JSON ``{"error": <stable code>, "message": <words>}`` with a 4xx status (503 only when
the JPKI authority cannot be asked). Bodies are limited to :data:`MAX_BODY` bytes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import uuid
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from center.calendar import Open
from center.errors import BadRequest, CenterError, NotFound, TerminalAuthError
from center.service import CenterService

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


class ErrorResponse(BaseModel):
    error: str
    message: str
    message_ja: str | None = None
    reopens_at: str | None = None


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 422, 503)
}


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("invalid_base64", f"{what} is not base64") from None


def _session_id(text: str) -> str:
    """Session ids are the center's own UUIDs (``str(uuid4())``): anything else names no session and
    is refused here, before the database sees it (PostgreSQL refuses to store an id longer than the
    column, or one with NUL, in the audit log)."""
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        canonical = None
    if canonical != text:
        raise NotFound("unknown_session", "no such session for this terminal")
    return text


def create_app(service: CenterService) -> FastAPI:
    app = FastAPI(title="koufu certificate issuance center", version="1", responses=ERRORS)

    @app.exception_handler(CenterError)
    async def center_error(_request: Request, error: CenterError) -> JSONResponse:
        return JSONResponse({"error": error.code, "message": error.message, **error.details},
                            status_code=error.status)

    def invalid_body() -> JSONResponse:
        return JSONResponse({"error": "invalid_body", "message": "the request body is not valid"},
                            status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, _error: RequestValidationError) -> JSONResponse:
        return invalid_body()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI could not read the body (JSON that is not UTF-8, …)
            return invalid_body()
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(error.detail)}, status_code=error.status_code)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return JSONResponse({"error": "body_too_large", "message": "request body too large"},
                                status_code=413)
        return await call_next(request)

    async def terminal(request: Request) -> str:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise CenterError("body_too_large", "request body too large", status=413)
        routed: str = request.scope["path"]  # percent-decoded
        if not (routed.isascii() and routed.isprintable()):
            # The signed text is ASCII, one field a line; and ``request.url.path`` silently drops
            # tabs and line breaks. No signature can cover such a path.
            raise TerminalAuthError("bad_request_signature",
                                    "the request path is not printable ASCII, so no signature covers it")
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await run_in_threadpool(service.authenticate_terminal, headers, request.method,
                                       request.url.path, body)

    @app.get("/v1/health", tags=["operations"])
    def health() -> dict[str, str]:
        """Liveness; no authentication, no database (the benchmark's trivial endpoint)."""
        return {"status": "ok"}

    @app.post("/v1/sessions", status_code=201, response_model=SessionResponse, tags=["sessions"])
    async def open_session(terminal_id: str = Depends(terminal)) -> SessionResponse:
        """Open a resident session: a single-use challenge bound to this session and terminal."""
        opened = await run_in_threadpool(service.open_session, terminal_id)
        return SessionResponse(session_id=opened.session_id,
                               challenge=base64.b64encode(opened.challenge).decode(),
                               expires_at=opened.expires_at)

    @app.post("/v1/sessions/{session_id}/resident", response_model=ResidentResponse, tags=["sessions"])
    async def resident(session_id: str, proof: ResidentProof,
                       terminal_id: str = Depends(terminal)) -> ResidentResponse:
        """The card's proof: its certificate and its signature over the session binding."""
        certificate = _b64(proof.certificate, "certificate")
        signature = _b64(proof.signature, "signature")
        session_id = _session_id(session_id)
        accepted = await run_in_threadpool(service.authenticate_resident, terminal_id, session_id,
                                           certificate, signature)
        return ResidentResponse(
            session_id=accepted.session_id,
            municipality=accepted.municipality,
            certificate_types={
                kind.value: Availability(open=True) if isinstance(decision, Open) else Availability(
                    open=False, reason_code=decision.reason_code.value,
                    message_ja=decision.message_ja, message_en=decision.message_en)
                for kind, decision in accepted.certificate_types.items()
            },
        )

    return app


def app_from_environment() -> FastAPI:
    """uvicorn factory (``center.app:app_from_environment``): config from ``KOUFU_CENTER_DIR``."""
    from center.config import CenterConfig

    config = CenterConfig.load(Path(os.environ["KOUFU_CENTER_DIR"]))
    return create_app(config.build_service())
