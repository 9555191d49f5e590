"""The console's ASGI application: :func:`create_console` assembles it (the routes of
:mod:`.auth`, every page of :mod:`.pages`, the static files) on the center's database.

Every answer carries a Content-Security-Policy that allows only the console's own script, style
and requests (no inline script, nothing from elsewhere: it works on a closed network), and no page
is cached. Refusals (:class:`~center.console.errors.ConsoleError`) are a page with the status and
the refusal's code (``data-error``), or ``{"error": code, "message": …}`` to a script (a request
that accepts JSON); a signed-out browser asking for a page is sent to ``/sign-in``.

While it runs, the console process keeps house on its own (the center's API processes know
nothing of its settings): every ``housekeeping_interval`` seconds (``housekeeping_seconds`` of
``center.json``) it deletes the sessions that ended (:meth:`Sessions.delete_ended`) and writes
the counts of refused tampering attempts whose minute is over (:mod:`.tampering`).

A refusal of a signed-in account's request for its CSRF token or origin, for its role (a
change), or for its scope (another municipality) is audited, at most once a minute per account
and code (:mod:`.tampering`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from center.audit import AuditEntry, AuditWriter
from center.body_limit import BodyLimit
from center.console import auth, pages
from center.console.access import SAFE_METHODS, Guard
from center.console.accounts import Accounts
from center.console.context import Console, console_of
from center.console.errors import ConsoleError, CsrfRefused, NotAllowed, OutOfScope, SignedOut
from center.console.passkeys import Passkeys
from center.console.sessions import Sessions
from center.console.settings import ConsoleSettings
from center.console.tampering import what
from center.orders import DEFAULT_SHARES, FeeShares
from center.store.driver import Database
from center.store.engine import make_engine
from center.web import NO_TELEMETRY

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 64 * 1024
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    # not no-referrer: with it a browser sends a form's Origin as "null", and the guard needs it
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"strict-transport-security", b"max-age=31536000"),
]
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
HOUSEKEEPING_INTERVAL = 60.0  # seconds, as the center's own housekeeping

log = logging.getLogger(__name__)


def create_console(
    settings: ConsoleSettings,
    database_url: str,
    chain_key: bytes,
    *,
    municipalities: Collection[str],
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    shares: FeeShares = DEFAULT_SHARES,
    center_directory: Path | None = None,
    housekeeping_interval: float = HOUSEKEEPING_INTERVAL,
) -> FastAPI:
    """The console on the center's database (already migrated), its changes audited in the
    center's chain under ``chain_key``; ``municipalities`` are the codes connected to the center
    (its ``center.json``); ``clock`` is the console's time (the tests' own); ``shares``: the
    center's per-copy shares of a fee (its configuration's); ``center_directory``: the center's
    directory, whose terminal CA certifies the terminals the Fleet page enrols (without it, the
    console enrols none); ``housekeeping_interval``: seconds between two rounds of the console's
    housekeeping."""
    database = Database(database_url)
    writer = AuditWriter(database, chain_key)
    sessions = Sessions(database, writer, settings, clock)
    console = Console(
        settings=settings,
        clock=clock,
        database=database,
        engine=make_engine(database_url),
        writer=writer,
        chain_key=chain_key,
        sessions=sessions,
        passkeys=Passkeys(database, writer, settings, clock),
        accounts=Accounts(database, writer, settings, clock),
        guard=Guard(sessions, settings.origin),
        municipalities=frozenset(municipalities),
        shares=shares,
        center_directory=center_directory,
    )
    app = FastAPI(
        title="koufu center console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan,
        telemetry=NO_TELEMETRY,
    )
    app.state.console = console
    app.state.housekeeping_interval = housekeeping_interval
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.add_middleware(_Headers)
    app.add_exception_handler(ConsoleError, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_refused)  # type: ignore[arg-type]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    for entry in pages.found():
        console.pages.append(entry.page)
        app.include_router(entry.router)
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    console: Console = app.state.console
    housekeeping = asyncio.get_running_loop().create_task(
        keep_house(console, app.state.housekeeping_interval), name="console-housekeeping"
    )
    yield
    housekeeping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await housekeeping
    await console.writer.close()
    await console.database.close()
    console.engine.dispose()


async def keep_house(console: Console, interval: float) -> None:
    """Forever, every ``interval`` seconds: delete the sessions that ended, write the counts of
    refused tampering attempts whose minute is over. Errors are logged (their type only), never
    raised."""
    while True:
        await asyncio.sleep(interval)
        try:
            deleted = await console.sessions.delete_ended()
        except Exception as error:
            log.warning("console housekeeping failed (%s); trying again later", type(error).__name__)
        else:
            log.debug("console housekeeping: %d ended sessions deleted", deleted)
        now = console.clock()
        await asyncio.gather(*(_audit_refusal(console, line, now) for line in console.refusals.due(now)))


def _tampering(request: Request, error: ConsoleError) -> bool:
    """Whether ``error`` refuses an attempt worth an audit line (:mod:`.tampering`)."""
    if isinstance(error, (CsrfRefused, OutOfScope)):
        return True
    return isinstance(error, NotAllowed) and request.method not in SAFE_METHODS


async def _audit_refusal(console: Console, line: AuditEntry, now: dt.datetime) -> None:
    try:
        await console.writer.record(line, now)
    except Exception as error:
        console.refusals.give_back(line)
        log.warning("a refused request's audit line not written (%s); kept for later", type(error).__name__)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _refused(request: Request, error: ConsoleError) -> Response:
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None and _tampering(request, error):
        console = console_of(request)
        now = console.clock()
        line = console.refusals.refused(viewer.name, error.code, what(request.method, request.url.path), now)
        if line is not None:
            await _audit_refusal(console, line, now)
    if isinstance(error, SignedOut) and request.method in SAFE_METHODS and not _wants_json(request):
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(path, safe='')}", status_code=303)
    if _wants_json(request):
        return JSONResponse({"error": error.code, "message": error.message}, status_code=error.status)
    console = console_of(request)
    return console.render(request, "error.html", None, status=error.status, code=error.code)


async def _http_refused(request: Request, error: HTTPException) -> Response:
    code = HTTP_CODES.get(error.status_code, "refused")
    if _wants_json(request):
        return JSONResponse({"error": code, "message": str(error.detail)}, status_code=error.status_code)
    return console_of(request).render(request, "error.html", None, status=error.status_code, code=code)


class _Headers:
    """The security headers on every answer; no page is kept by a cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *HEADERS]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
