"""Signing in, enrolling a passkey and signing out: the routes a signed-out browser may use (with
the static files), and the cookie of a new session.

The ceremonies' requests are JSON from the console's own script (``static/console.js``): each
``…/options`` answer is used by ``navigator.credentials.create`` or ``.get``, whose answer the
script posts to ``…/verify``. A signed-out browser sees nothing else: every other address sends
it to ``/sign-in``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from center.console.context import console_of
from center.console.errors import BadInput, ConsoleError
from center.console.sessions import COOKIE

router = APIRouter()
JSON_LIMIT = 16 * 1024  # bytes of a ceremony's answer


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return console_of(request).render(
        request, "sign_in.html", None, next=_next(request.query_params.get("next"))
    )


@router.post("/sign-in/options")
async def sign_in_options(request: Request) -> Response:
    console = console_of(request)
    await _json(request)
    return JSONResponse(await console.passkeys.sign_in_options(), headers=_NO_STORE)


@router.post("/sign-in/verify")
async def sign_in(request: Request) -> Response:
    console = console_of(request)
    body = await _json(request)
    operator = await console.passkeys.sign_in(_text(body, "ceremony"), body.get("credential"))
    session_id, _viewer = await console.sessions.open(operator, "passkey")
    return _signed_in(request, session_id, _next(body.get("next")))


@router.get("/enrol")
async def enrol_page(request: Request) -> Response:
    console = console_of(request)
    token = request.query_params.get("token", "")
    try:
        enrolment = await console.passkeys.enrolment(token)
    except ConsoleError as refused:
        return console.render(request, "enrol.html", None, status=refused.status, refused=refused.code)
    return console.render(request, "enrol.html", None, refused=None, operator=enrolment.operator, token=token)


@router.post("/enrol/options")
async def enrol_options(request: Request) -> Response:
    console = console_of(request)
    body = await _json(request)
    return JSONResponse(await console.passkeys.registration_options(_text(body, "token")), headers=_NO_STORE)


@router.post("/enrol/verify")
async def enrol(request: Request) -> Response:
    console = console_of(request)
    body = await _json(request)
    operator = await console.passkeys.register(
        _text(body, "ceremony"), _text(body, "token"), body.get("credential")
    )
    session_id, _viewer = await console.sessions.open(operator, "enrolment")
    return _signed_in(request, session_id, "/")


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    console = console_of(request)
    viewer = await console.guard.signed_in(request)
    await console.sessions.close(viewer)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


_NO_STORE = {"Cache-Control": "no-store"}


def _signed_in(request: Request, session_id: str, next_path: str) -> Response:
    response = JSONResponse({"next": next_path}, headers=_NO_STORE)
    response.set_cookie(COOKIE, session_id, path="/", secure=True, httponly=True, samesite="strict")
    return response


async def _json(request: Request) -> dict[str, Any]:
    """A ceremony's body: JSON from the console's own origin (another site cannot send it)."""
    console_of(request).guard.same_origin(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadInput("json_required", "this takes application/json")
    body = await request.body()
    if len(body) > JSON_LIMIT:
        raise BadInput("too_large", "the body is too large")
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise BadInput("bad_json", "the body is not JSON") from None
    if not isinstance(value, dict):
        raise BadInput("bad_json", "the body is not a JSON object")
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadInput(f"bad_{name}", f"{name} is missing")
    return value


def _next(value: object) -> str:
    """Where to go after signing in: a path of the console only."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
