"""The center's verification page for anyone holding a printed certificate (証明書の確認ページ).

``GET /verify`` is a form: take a photo of the page, upload a scan or PDF of it, or type the issue
number and the verification code. ``POST /verify`` answers the verdict as HTML
(:mod:`printing.verify`: the page code's signature against the published municipal keys, then this
center's certificate store, read directly). When the signature verified, the page also shows what
the page code states: the statement of what was proved, the uploaded picture beside the page as
issued (:mod:`center.verify_pictures`) and the content's lines; whoever uploads the paper holds it.
Nothing of it is stored or logged, and the answer is ``Cache-Control: no-store``. ``GET
/verify/keys.json`` publishes the keys it uses. Japanese and English are both on every page; ``?lang=en``
(or a browser that prefers English) puts English first.

The municipal keys are ``municipal-keys.json`` in the center's directory, the list kiosks are
given (each entry a municipality's ``public-key.json``, optionally with its ``name``); it is read
again when it changes. Without it a code's signature cannot be checked and uploads are
``unknown``; typed numbers need no key.

Uploads are up to :data:`UPLOAD_LIMIT` bytes, larger than the API's 64 KiB: the page is served
in front of the API's body limit, by a router of its own, and bounds its bodies itself (413
before a byte over the limit is kept). Decoding and drawing run in worker threads, at most
:data:`DECODERS` uploads at once, at most :data:`~center.verify_pictures.MAX_DRAWN` pages drawn
each. Nothing is logged per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from center import verification
from center.service import CenterService
from center.store.driver import Database
from center.verify_page_html import LANGUAGES, Result, page
from center.verify_pictures import MAX_DRAWN, issued_picture, uploaded_pictures
from center.web_errors import not_routed
from documents import TrustList
from documents.errors import DocumentError
from printing.page_code import SignedPageCode
from printing.verify import (
    Outcome,
    PublishedKeys,
    StatusSource,
    StoreAnswer,
    TooLarge,
    UnreadableInput,
    Verdict,
    check,
    check_number,
    content_lines,
    load_keys,
    read_codes,
)

log = logging.getLogger(__name__)

UPLOAD_LIMIT = 10 * 1024 * 1024  # bytes of a whole request: one page's scan, photo or PDF
DECODERS = 2  # uploads decoded at once (each in a worker thread)
KEYS_FILE = "municipal-keys.json"
PATHS = ("/verify", "/verify/keys.json")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _BadForm(Exception):
    """The request cannot be a form of this page: its error code (for the page) and HTTP status."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class MunicipalKeys:
    """The published keys in a file, read again whenever it changes (none if there is no file)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._keys = PublishedKeys(TrustList())

    def current(self) -> PublishedKeys:
        try:
            stat = None if self.path is None else self.path.stat()
        except FileNotFoundError:
            stat = None
        seen = None if stat is None else (stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._seen = seen
            self._keys = PublishedKeys(TrustList())
            if self.path is not None and stat is not None:
                try:
                    self._keys = load_keys(self.path)
                except DocumentError as error:
                    log.warning("the municipal keys in %s are not usable: %s", self.path.name, error)
        return self._keys


class VerifyPage:
    """The page's routes, on the center's database and the published keys."""

    def __init__(self, database: Database, keys: MunicipalKeys) -> None:
        self.database = database
        self.keys = keys
        self.decoders = asyncio.Semaphore(DECODERS)
        self.router = Router(
            [
                Route("/verify", self.form, methods=["GET"]),
                Route("/verify", self.verify, methods=["POST"]),
                Route("/verify/keys.json", self.published, methods=["GET"]),
            ]
        )

    async def form(self, request: Request) -> Response:
        return _html(page(lang=_language(request)))

    async def published(self, _request: Request) -> Response:
        keys = self.keys.current()
        entries = [
            {
                **key.to_json(),
                **({"name": keys.names[key.municipality]} if key.municipality in keys.names else {}),
            }
            for key in keys.trust.values()
        ]
        return Response(
            json.dumps(entries, ensure_ascii=False),
            media_type="application/json",
            headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    async def verify(self, request: Request) -> Response:
        lang = _language(request)
        async with self.decoders:
            try:
                results = await self._results(request)
            except _BadForm as bad:
                return _html(page(error=bad.code, lang=lang), bad.status)
            except UnreadableInput as unreadable:
                status = 413 if isinstance(unreadable, TooLarge) else 400
                return _html(page(error=unreadable.code, lang=lang), status)
        return _html(page(results, lang=lang))

    async def _results(self, request: Request) -> list[Result]:
        body = await _bounded_body(request)
        replayed = Request(request.scope, _replay(body))
        try:
            # two file fields: the camera's and a plain file choice, one of them filled
            async with replayed.form(max_files=2, max_fields=4, max_part_size=4096) as form:
                for upload in form.getlist("page"):
                    if isinstance(upload, UploadFile) and upload.filename:
                        data = await upload.read()
                        return await self._uploaded(data)
                number, code = form.get("issue_number"), form.get("code")
        except MultiPartException:
            raise _BadForm("bad_upload") from None
        if not isinstance(number, str) or not isinstance(code, str) or not number.strip() or not code.strip():
            raise _BadForm("bad_form")
        try:
            answer = await self._store(number.strip(), code.strip())
        except ValueError:
            raise _BadForm("bad_form") from None
        return [Result(check_number(answer, self.keys.current().names))]

    async def _uploaded(self, data: bytes) -> list[Result]:
        codes = await asyncio.to_thread(read_codes, data)
        keys = self.keys.current()
        verdicts = []
        for code in codes:
            verdict = check(code, keys, None)  # the signature alone; the store only for a genuine code
            if verdict.outcome is Outcome.UNCONFIRMED:
                answer = await self._store(code.claims.issue_number, code.claims.verification_code)
                verdict = check(code, keys, _answered(answer))
            verdicts.append(verdict)
        return await asyncio.to_thread(_shown, data, codes, verdicts)

    async def _store(self, issue_number: str, code: str) -> StoreAnswer:
        """This center's certificate store (what ``GET /v1/verify`` answers); ValueError for what
        is not an issue number and a code."""
        found = await verification.verify(self.database, issue_number, code)
        digest = None if found.content_hash is None else bytes.fromhex(found.content_hash)
        return StoreAnswer(
            found.issue_number, found.status.value, found.municipality, found.issued_on, found.pages, digest
        )


def _shown(data: bytes, codes: list[SignedPageCode], verdicts: list[Verdict]) -> list[Result]:
    """Each page's result, with its pictures and content lines where its signature verified (the
    first :data:`MAX_DRAWN` such pages drawn). In a worker thread: drawing takes a second a page."""
    verified = [index for index, verdict in enumerate(verdicts) if verdict.claims is not None]
    drawn = set(verified[:MAX_DRAWN])
    uploads = uploaded_pictures(data, len(codes)) if drawn else []
    results = []
    for index, (code, verdict) in enumerate(zip(codes, verdicts, strict=True)):
        if verdict.claims is None:
            results.append(Result(verdict))
            continue
        lines = content_lines(verdict.claims)
        if index not in drawn:
            results.append(Result(verdict, lines=lines, drawn=False))
            continue
        # a PDF's pages beside the pages found when they are as many; else the first picture
        uploaded = uploads[index] if len(uploads) == len(codes) else (uploads[0] if uploads else None)
        results.append(Result(verdict, uploaded, issued_picture(code), lines))
    return results


def _answered(answer: StoreAnswer) -> StatusSource:
    """The store's answer, already asked (on the event loop), as a status source."""

    def status(_issue_number: str, _code: str) -> StoreAnswer:
        return answer

    return status


def _language(request: Request) -> str:
    """``?lang=`` if given, else the browser's first preference of Japanese and English; Japanese."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "ja"


class _InFront:
    """Sends the page's paths to its router, before the API's middleware (its 64 KiB body limit);
    its router's refusal (another method, 405) is answered as the API's refusals are."""

    def __init__(self, app: ASGIApp, *, page: ASGIApp) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PATHS:
            try:
                await self.page(scope, receive, send)
            except HTTPException as refused:  # the page's router: not a method of its paths
                await not_routed(None, refused).response()(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def register_verify_page(app: FastAPI, service: CenterService, keys_file: Path | None = None) -> None:
    """Serve the page on ``app`` (before it starts). ``keys_file``: the published municipal keys;
    by default ``municipal-keys.json`` in the center's directory (``KOUFU_CENTER_DIR``)."""
    if keys_file is None and os.environ.get("KOUFU_CENTER_DIR"):
        keys_file = Path(os.environ["KOUFU_CENTER_DIR"]) / KEYS_FILE
    verify_page = VerifyPage(service.database, MunicipalKeys(keys_file))
    app.add_middleware(_InFront, page=verify_page.router)


def _html(text: str, status: int = 200) -> Response:
    return HTMLResponse(text, status_code=status, headers=HEADERS)


async def _bounded_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is over :data:`UPLOAD_LIMIT`, declared or sent."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise _BadForm("bad_upload")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > UPLOAD_LIMIT):
        raise _BadForm("too_large", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > UPLOAD_LIMIT:
            raise _BadForm("too_large", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
