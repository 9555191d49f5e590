"""The terminal's signature on a request (端末の署名), as one dependency of every terminal route.

:data:`Signed` reads the raw body once, hands the service what the signature covers (method,
path, headers and those exact bytes) and gives the route the authenticated terminal with the
body: a request is parsed only once its terminal is known. The OpenAPI description names the
three signature headers as security schemes (:data:`SIGNATURE_SCHEMES`, :func:`signed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from center.api.requests import Center
from center.errors import TerminalAuthError, UnsupportedMediaType
from center.json_body import declares_json
from center.protocol import TERMINAL_REQUESTS
from center.service import CenterService, TerminalRequest
from center.signing import field_values

SIGNATURE_SCHEMES = {
    "terminal" + header.replace("-", ""): {
        "type": "apiKey",
        "in": "header",
        "name": header,
        "description": (
            "HTTP Message Signatures (RFC 9421) over a Content-Digest (RFC 9530): every terminal "
            'request carries all three; label koufu, alg="ecdsa-p256-sha256", keyid the terminal '
            'id, tag="koufu-terminal/1" (see docs/center.md, request signing)'
        ),
    }
    for header in TERMINAL_REQUESTS.headers
}
SIGNED: dict[str, Any] = {"security": [{name: [] for name in SIGNATURE_SCHEMES}]}


def signed(body: type[BaseModel] | None = None) -> dict[str, Any]:
    """A signed route's OpenAPI extras: its security and, if it takes one, its JSON ``body``
    (described here: the route reads the bytes itself, after the signature)."""
    if body is None:
        return SIGNED
    return {
        **SIGNED,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body.model_json_schema()}},
        },
    }


@dataclass(frozen=True)
class TerminalCall:
    """A request whose signature verified: the terminal that sent it and the exact body it signed."""

    terminal_id: str
    body: bytes


def received(request: Request, body: bytes) -> TerminalRequest:
    """What a terminal's signature covers, as received (checked in the service)."""
    routed: str = request.scope["path"]  # percent-decoded
    if not (routed.isascii() and routed.isprintable()):
        # The signature base is ASCII, one component a line; and ``request.url.path`` silently
        # drops tabs and line breaks. No signature can cover such a path.
        raise TerminalAuthError(
            "bad_request_signature", "the request path is not printable ASCII, so no signature covers it"
        )
    headers = field_values((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"])
    query = "?" + request.scope["query_string"].decode("latin-1")
    return TerminalRequest(headers, request.method, request.url.path, body, query)


async def terminal_call(request: Request, service: Center) -> TerminalCall:
    """The request's terminal, authenticated over the body's exact bytes (read here, once)."""
    return await authenticated(received(request, await request.body()), service)


async def authenticated(signed_request: TerminalRequest, service: CenterService) -> TerminalCall:
    """The request's terminal, authenticated; then a body must be declared JSON
    (:mod:`center.json_body`), whatever route takes it."""
    terminal_id = await service.authenticate_terminal(signed_request)
    if signed_request.body and not declares_json(signed_request.headers.get("content-type")):
        raise UnsupportedMediaType(
            "unsupported_media_type", "a request body must be sent as Content-Type: application/json"
        )
    return TerminalCall(terminal_id, signed_request.body)


Signed = Annotated[TerminalCall, Depends(terminal_call)]
