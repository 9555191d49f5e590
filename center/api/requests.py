"""What the center's routes take from a request besides its signature: the center's service (on
``app.state``), a body read into its model, and the ids in a path.
"""

from __future__ import annotations

import uuid
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from center.errors import BadRequest, NotFound
from center.service import CenterService

M = TypeVar("M", bound=BaseModel)


async def center_service(request: Request) -> CenterService:
    """The service the application was made with (``create_app`` keeps it in ``app.state``)."""
    service: CenterService = request.app.state.service
    return service


Center = Annotated[CenterService, Depends(center_service)]


def parsed(model: type[M], body: bytes) -> M:
    """``body`` as a ``model``, or BadRequest ``invalid_body``."""
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise BadRequest("invalid_body", "the request body is not valid") from None


def canonical_uuid(text: str, what: str) -> str:
    """``text`` if it is a UUID as the center writes them (``str(uuid4())``); else NotFound
    ``unknown_<what>``: anything else names nothing, and is refused before the database sees it
    (PostgreSQL refuses to store an id longer than the column, or one with NUL, in the audit log)."""
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        canonical = None
    if canonical != text:
        raise NotFound(f"unknown_{what}", f"no such {what} for this terminal")
    return text
