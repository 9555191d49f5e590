"""How the web applications (the center's, a municipality's, the authority's) answer a refusal (拒否):
a JSON body ``{"error": <stable code>, ...}`` with the refusal's HTTP status.

Each server says which of its exceptions refuse and how each one reads as an :class:`ErrorAnswer`
(its status, code and the body's other members, which differ from server to server); this module
installs those translations as the application's exception handlers and writes the responses.
A refusal the web layer decides itself (a replayed request, a body that is not JSON) is raised as
a :class:`Refusal`, which every server answers the same way; so is the router's own (no route for
the path, or not for the method: :data:`ROUTER_REFUSALS`), never in the framework's
``{"detail": ...}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

E = TypeVar("E", bound=Exception)

# the router's own refusals (no route for the path, or not for the method)
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


@dataclass(frozen=True)
class ErrorAnswer:
    """A refusal as it is answered: HTTP status, stable code, the body's other members (in order;
    a member whose value is ``None`` is left out) and extra headers."""

    status: int
    code: str
    members: Mapping[str, object] = field(default_factory=dict)
    headers: Mapping[str, str] | None = None

    def response(self) -> Response:
        members = {name: value for name, value in self.members.items() if value is not None}
        return JSONResponse({"error": self.code, **members}, status_code=self.status, headers=self.headers)


class Refusal(Exception):
    """A refusal decided in the web layer itself, with its answer."""

    def __init__(self, status: int, code: str, message: str, **members: object) -> None:
        super().__init__(message)
        self.answer = ErrorAnswer(status, code, {"message": message, **members})


@dataclass(frozen=True)
class Translation(Generic[E]):
    """How a server answers the exceptions of one kind (and of its subclasses)."""

    kind: type[E]
    answer: Callable[[Request, E], ErrorAnswer]


def not_routed(_request: Request | None, error: HTTPException) -> ErrorAnswer:
    """The router's own refusal as a refusal of ours: ``not_found``, ``method_not_allowed`` (with
    its ``Allow`` header), any other status ``http_error``."""
    return ErrorAnswer(
        error.status_code,
        HTTP_CODES.get(error.status_code, "http_error"),
        {"message": str(error.detail)},
        headers=error.headers,
    )


#: the router's refusals, for :func:`answer_errors` of every server
ROUTER_REFUSALS = Translation(HTTPException, not_routed)


def answer_errors(app: FastAPI, *translations: Translation[Any]) -> None:
    """Install the exception handlers of ``app``: :class:`Refusal` and every translation given
    (Starlette picks the handler of the exception's nearest class)."""
    _install(app, Translation(Refusal, lambda _request, refusal: refusal.answer))
    for translation in translations:
        _install(app, translation)


def _install(app: FastAPI, translation: Translation[E]) -> None:
    async def handle(request: Request, error: Exception) -> Response:
        if not isinstance(error, translation.kind):  # Starlette only hands over its own kind
            raise error
        return translation.answer(request, error).response()

    app.add_exception_handler(translation.kind, handle)
