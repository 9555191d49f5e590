"""How the center's API answers: a route's model as the JSON body, and its refusals
(:class:`~center.errors.CenterError`) as ``{"error": <stable code>, "message": <words>, ...}``.

Refusals have a 4xx status (503 only when the JPKI authority or a municipality cannot be asked);
the OpenAPI description names their body (:data:`ERRORS`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from center.api.error_codes import codes_of
from center.errors import CenterError
from center.messages import ErrorResponse
from center.web_errors import ROUTER_REFUSALS, ErrorAnswer, Translation, answer_errors

ERRORS: dict[int | str, dict[str, object]] = {
    status: {
        "model": ErrorResponse,
        "description": "Refused; `error` is one of: " + ", ".join(f"`{code}`" for code in codes_of(status)),
    }
    for status in (400, 401, 403, 404, 409, 413, 415, 422, 503)
}
INVALID_BODY = ErrorAnswer(400, "invalid_body", {"message": "the request body is not valid"})


def json_answer(answer: BaseModel, status: int = 200) -> Response:
    """``answer`` as the body (the route's ``response_model`` only describes it in the OpenAPI)."""
    return Response(
        answer.model_dump_json(exclude_none=True), status_code=status, media_type="application/json"
    )


def _refused(_request: Request, error: CenterError) -> ErrorAnswer:
    return refusal_answer(error)


def refusal_answer(error: CenterError) -> ErrorAnswer:
    """The refusal's code and words, and those of its details the API names (:class:`ErrorResponse`)."""
    described = ErrorResponse.model_validate({"error": error.code, "message": error.message, **error.details})
    return ErrorAnswer(error.status, error.code, described.model_dump(exclude={"error"}))


def answer_refusals(app: FastAPI) -> None:
    """The center's refusals, a body FastAPI cannot read, and the router's own 404 and 405."""
    answer_errors(
        app,
        Translation(CenterError, _refused),
        Translation(RequestValidationError, lambda _request, _invalid: INVALID_BODY),
        ROUTER_REFUSALS,
    )
