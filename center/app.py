"""The center's HTTP API for terminals (FastAPI): the application, assembled from the routers of
``center/api`` (translation only: the logic is in ``service.py``).

Errors are JSON ``{"error": <stable code>, "message": <words>}`` with a 4xx status (503 only when
the JPKI authority cannot be asked). Bodies are limited to :data:`MAX_BODY` bytes, except the
verification page's uploads (``verify_page.py``, served in front of the limit).

A center process group serves one of :data:`ROLES`: ``all`` (every route: the center), or
``heartbeats`` (``POST /v1/heartbeats`` and ``GET /v1/health`` only, every other path refused
``not_found`` as the router refuses an unknown one): a group of its own for the terminals'
heartbeats, on the same configuration, database, TLS identity and authentication rules, which an
operator may run at a lower CPU priority (``koufu center serve --role heartbeats --nice K``,
docs/operations.md) so that thousands of heartbeats a second do not delay the residents.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from center.api import municipalities, operations, orders, registrations, sessions, terminals, verification
from center.api.answers import ERRORS, answer_refusals
from center.api.error_codes import described
from center.api.signing import SIGNATURE_SCHEMES
from center.body_limit import BodyLimit
from center.roles import ROLE_VARIABLE, ROLES
from center.service import CenterService
from center.verify_page import register_verify_page
from center.web import NO_TELEMETRY

MAX_BODY = 64 * 1024
DESCRIPTION = f"""The center's API for kiosk terminals. The protocol, with what this description
cannot say (the request signature, the sealed values, the order's states, the documents), is
specified in `docs/protocol.md`.

**Security.** Every route but `GET /v1/health` and `GET /v1/verify` is signed by the terminal with
its enrolment key (EC P-256) over the method, the path, the signing time, a single-use nonce and
the body's bytes (`docs/protocol.md`, section 3.1): the security schemes name the headers that
carry it. A request is authenticated before its body is read; a timestamp more than 120 s from
the center's clock, or a nonce seen before, is refused.

**Refusals** are `{{"error": <code>, "message": <words>, ...}}`; the codes:

{described()}
"""
ROUTERS = (
    operations.router,
    sessions.router,
    terminals.router,
    terminals.heartbeat_router,
    verification.router,
    orders.router,
    municipalities.router,
    registrations.router,
)
HEARTBEAT_ROUTERS = (operations.router, terminals.heartbeat_router)  # role "heartbeats"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The service's housekeeping while the application runs; the service closed after it."""
    service: CenterService = app.state.service
    housekeeping = asyncio.get_running_loop().create_task(service.keep_house(), name="housekeeping")
    yield
    housekeeping.cancel()
    await service.close()


def create_app(service: CenterService, role: str = "all") -> FastAPI:
    """The API, on the server's event loop (no worker threads). Request bodies of the signed calls
    are read as bytes (the signature covers them) and parsed only once the terminal is
    authenticated. ``role`` ``heartbeats``: the heartbeat and the health check only (no other
    route, no verification page, no OpenAPI description: those are the whole center's)."""
    if role not in ROLES:
        raise ValueError(f"a center's role is one of {', '.join(ROLES)}")
    whole = role == "all"
    described: dict[str, Any] = {} if whole else {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(
        title="koufu certificate issuance center",
        version="1",
        description=DESCRIPTION,
        responses=ERRORS,
        lifespan=lifespan,
        telemetry=NO_TELEMETRY,
        **described,
    )
    app.state.service = service
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.openapi = _with_signature_schemes(app.openapi)  # type: ignore[method-assign]
    answer_refusals(app)
    for router in ROUTERS if whole else HEARTBEAT_ROUTERS:
        app.include_router(router)
    if whole:
        register_verify_page(app, service)
    return app


def _with_signature_schemes(generated: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's description, with the request signature as the signed calls' security."""

    def openapi() -> dict[str, Any]:
        document = generated()
        document.setdefault("components", {})["securitySchemes"] = SIGNATURE_SCHEMES
        return document

    return openapi


def app_from_environment() -> FastAPI:
    """uvicorn factory (``center.app:app_from_environment``): config from ``KOUFU_CENTER_DIR``, the
    role from ``KOUFU_CENTER_ROLE`` (default ``all``)."""
    from center.config import CenterConfig

    config = CenterConfig.load(Path(os.environ["KOUFU_CENTER_DIR"]))
    return create_app(config.build_service(), os.environ.get(ROLE_VARIABLE, "all"))
