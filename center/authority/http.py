"""The authority over HTTP (FastAPI app, served by uvicorn): what registered verifiers may ask.

========================================  ========  ==========================================
endpoint                                  who       answer
========================================  ========  ==========================================
``POST /ocsp`` (application/ocsp-request)  verifier  application/ocsp-response (RFC 6960)
``GET /ocsp/{base64 request}``             verifier  application/ocsp-response
``GET /v1/certificates/{serial}``          verifier  ``{"serial", "municipality", "status",
                                                     "previous_serial"}``
``GET /crl/{kind}/{generation}``           anyone    application/pkix-crl
``GET /ca/{kind}/{generation}``            anyone    application/pkix-cert
``GET /v1/cas``                            anyone    the CA generations, key ids, links
``GET /healthz``                           anyone    ``{"status": "ok"}``
========================================  ========  ==========================================

The two questions verifiers ask for every card (OCSP and the certificate's record) are answered on
the event loop through the database drivers (``records.py``): the OCSP answer kept for the
certificate when it may be sent, else one signed there and then (``ocsp.py``). The rest, rarely
asked, runs the synchronous service in worker threads. The routes are one router that finds the
service and the records in ``app.state``; the verifier's token is one dependency (:data:`Verifier`).

Verifiers authenticate with ``Authorization: Bearer <token>``. Every error outside the OCSP
protocol is JSON ``{"error": "<code>"}`` with a 4xx status (codes: ``errors.py``). Inside the
protocol, a malformed request or an unknown issuer is an OCSP response with HTTP 200, as OCSP
clients expect. Logs name the verifier, never its token.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import anyio
from anyio import to_thread
from anyio.lowlevel import RunVar
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from center.authority.ca import CaKind
from center.authority.errors import (
    AuthorityError,
    AuthorityStateError,
    InvalidSerialError,
    RequestTooLargeError,
    UnauthorizedError,
    UnknownCertificateError,
    UnknownGenerationError,
    UnsupportedMediaTypeError,
)
from center.authority.ocsp import not_kept, try_later
from center.authority.records import AsyncRecords
from center.authority.service import MAX_SERIAL, AuthorityService, CertificateStatus
from center.web import NO_TELEMETRY, serve_app
from center.web_errors import HTTP_CODES, ErrorAnswer, Translation, answer_errors

MAX_OCSP_REQUEST = 4096  # bytes; a request for one certificate with a nonce is ~100
OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"
# A token that authenticated is believed again for this long without asking the database (a
# removed verifier is refused within this time); unknown tokens are looked up every time.
TOKEN_MEMORY = 5.0  # seconds
# Threads that work on the store at once: no more than its connection pool holds (5), so no
# connection is opened and closed again for one request under load.
STORE_THREADS = 5

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


_limiters: RunVar[anyio.CapacityLimiter | None] = RunVar("store_limiter", None)


async def _in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func`` in a worker thread, at most :data:`STORE_THREADS` at once (per event loop)."""
    limiter = _limiters.get()
    if limiter is None:
        limiter = anyio.CapacityLimiter(STORE_THREADS)
        _limiters.set(limiter)
    return await to_thread.run_sync(lambda: func(*args, **kwargs), limiter=limiter)


async def authority_service(request: Request) -> AuthorityService:
    """The service the application was made with (``create_app`` keeps it in ``app.state``)."""
    service: AuthorityService = request.app.state.service
    return service


async def async_records(request: Request) -> AsyncRecords:
    """The certificate records read on the event loop (``app.state``)."""
    records: AsyncRecords = request.app.state.records
    return records


Service = Annotated[AuthorityService, Depends(authority_service)]
Records = Annotated[AsyncRecords, Depends(async_records)]


async def _verifier(request: Request, service: Service) -> str:
    """The name of the registered verifier whose bearer token the request carries."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("a bearer token is required")
    token = token.strip()
    memory: dict[str, tuple[str, float]] = request.app.state.tokens
    known = memory.get(token)
    if known is not None and known[1] > time.monotonic():
        return known[0]
    name = await _in_thread(service.authenticate, token)
    if len(memory) > 1000:
        memory.clear()
    memory[token] = (name, time.monotonic() + TOKEN_MEMORY)
    return name


Verifier = Annotated[str, Depends(_verifier)]
router = APIRouter()


@router.post("/ocsp", response_class=Response)
async def ocsp_post(request: Request, who: Verifier, service: Service, records: Records) -> Response:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != OCSP_REQUEST:
        raise UnsupportedMediaTypeError(f"expected {OCSP_REQUEST}")
    body = await _read_limited(request, MAX_OCSP_REQUEST)
    return await _ocsp(service, records, who, body)


@router.get("/ocsp/{encoded:path}", response_class=Response)
async def ocsp_get(encoded: str, who: Verifier, service: Service, records: Records) -> Response:
    if len(encoded) > (MAX_OCSP_REQUEST * 4) // 3 + 4:
        raise RequestTooLargeError(MAX_OCSP_REQUEST)
    return await _ocsp(service, records, who, _unbase64(encoded))


@router.get("/v1/certificates/{serial}")
async def certificate(serial: str, who: Verifier, records: Records) -> JSONResponse:
    number = _serial(serial)
    record = await records.get(number)
    if record is None:
        raise UnknownCertificateError(number)
    log.info("verifier %r asked for certificate %d", who, number)
    return JSONResponse(CertificateStatus.of(record).to_json())


@router.get("/crl/{kind}/{generation}", response_class=Response)
async def crl(kind: str, generation: str, service: Service) -> Response:
    ca_kind, year = _generation(service, kind, generation)
    revocations = await _in_thread(service.crl, ca_kind, year)
    return Response(revocations.public_bytes(Encoding.DER), media_type="application/pkix-crl")


@router.get("/ca/{kind}/{generation}", response_class=Response)
async def ca_certificate(kind: str, generation: str, service: Service) -> Response:
    ca_kind, year = _generation(service, kind, generation)
    return Response(service.authority.generation(ca_kind, year).der, media_type="application/pkix-cert")


@router.get("/v1/cas")
async def cas(service: Service) -> JSONResponse:
    return JSONResponse(
        [
            {
                "kind": ca.kind.value,
                "generation": ca.generation,
                "key_id": ca.key_id.hex(),
                "not_before": ca.certificate.not_valid_before_utc.isoformat(),
                "not_after": ca.certificate.not_valid_after_utc.isoformat(),
                "certificate": f"/ca/{ca.kind.value}/{ca.generation}",
                "crl": f"/crl/{ca.kind.value}/{ca.generation}",
            }
            for ca in service.authority.cas
        ]
    )


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


INVALID_REQUEST = ErrorAnswer(400, "invalid_request")


def _refused(request: Request, exc: AuthorityError) -> ErrorAnswer:
    """The authority's refusal, logged: its code and status (``errors.py``); a missing or unknown
    token also asks for a bearer token."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, UnauthorizedError) else None
    level = logging.ERROR if exc.http_status >= 500 else (logging.WARNING if headers else logging.INFO)
    # the message names serials and codes; never the Authorization header
    log.log(level, "%s %s refused (%s): %s", request.method, request.url.path[:64], exc.code, exc)
    return ErrorAnswer(exc.http_status, exc.code, headers=headers)


def _not_routed(_request: Request, exc: StarletteHTTPException) -> ErrorAnswer:
    return ErrorAnswer(
        exc.status_code, HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"), headers=exc.headers
    )


TRANSLATIONS = (
    Translation(AuthorityError, _refused),
    Translation(StarletteHTTPException, _not_routed),
    Translation(RequestValidationError, lambda _request, _exc: INVALID_REQUEST),
)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    records: AsyncRecords = app.state.records
    await records.close()


def create_app(service: AuthorityService, records: AsyncRecords | None = None) -> FastAPI:
    """The ASGI application over ``service`` (which the caller opens and closes) and ``records``
    (by default over the service's database; closed with the app)."""
    app = FastAPI(
        title="koufu JPKI authority simulator", version="1", lifespan=lifespan, telemetry=NO_TELEMETRY
    )
    app.state.service = service
    if records is None:
        records = AsyncRecords(service.store.engine.url.render_as_string(hide_password=False))
    app.state.records = records
    app.state.tokens = {}
    answer_errors(app, *TRANSLATIONS)
    app.include_router(router)
    return app


async def _ocsp(service: AuthorityService, records: AsyncRecords, who: str, body: bytes) -> Response:
    """As :meth:`OcspResponder.respond <center.authority.ocsp.OcspResponder.respond>`, with the
    records read and written on the event loop."""
    log.info("OCSP question from verifier %r (%d bytes)", who, len(body))
    question = service.responder.question(body)
    if isinstance(question, bytes):
        return Response(question, media_type=OCSP_RESPONSE)
    try:
        record = await records.get(question.query.serial)
    except AuthorityStateError as exc:
        return Response(try_later(exc), media_type=OCSP_RESPONSE)
    answer, to_keep = service.responder.reply(question, record, service.clock())
    if record is not None and to_keep is not None:
        try:
            await records.keep_answer(record, to_keep)
        except AuthorityStateError as exc:
            not_kept(record, exc)
    return Response(answer, media_type=OCSP_RESPONSE)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise RequestTooLargeError(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestTooLargeError(limit)
    return bytes(body)


def _unbase64(encoded: str) -> bytes:
    """The GET form of RFC 6960 appendix A: base64 (standard or URL-safe, padding optional).

    Undecodable text becomes empty bytes, which the responder answers as malformedRequest.
    """
    text = encoded.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _serial(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 0 < int(text) <= MAX_SERIAL:
        raise InvalidSerialError(f"not a certificate serial: {text[:32]!r}")
    return int(text)


def _generation(service: AuthorityService, kind: str, generation: str) -> tuple[CaKind, int]:
    if kind not in {k.value for k in CaKind} or not generation.isdigit() or len(generation) != 4:
        raise UnknownGenerationError(kind[:32], generation[:32])
    ca = service.authority.generation(CaKind(kind), int(generation))
    return ca.kind, ca.generation


def serve(
    service: AuthorityService,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    ready: Callable[[str], None] = print,
    log_level: str = "info",
) -> None:
    """Run the app under uvicorn until SIGINT/SIGTERM; ``ready`` gets the base URL first."""
    serve_app(
        create_app(service),
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        ready=ready,
        log_level=log_level,
    )
