"""The public question about a printed copy (真正性の確認): is the copy with this issue number and
verification code genuine, and does it stand? No authentication; nothing about the person."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from center import verification
from center.api.answers import json_answer
from center.api.requests import Center
from center.errors import BadRequest

router = APIRouter(tags=["verification"])


class VerificationResponse(BaseModel):
    issue_number: str
    status: str = Field(description="valid, voided, not_printed or unknown (no such copy, or not this code)")
    municipality: str | None = None
    issued_on: str | None = None
    pages: int | None = None
    content_hash: str | None = None


@router.get("/v1/verify", response_model=VerificationResponse)
async def verify_copy(
    service: Center,
    issue_number: str = Query("", description="as printed on the page (the copy's or a page's)"),
    code: str = Query("", description="the verification code printed beside it"),
) -> Response:
    """Public, no authentication: is the copy with this issue number and verification code
    genuine, and does it stand? Nothing about the person."""
    try:
        found = await verification.verify(service.database, issue_number, code)
    except ValueError as error:
        raise BadRequest("invalid_query", str(error)) from None
    return json_answer(
        VerificationResponse(
            issue_number=found.issue_number,
            status=found.status.value,
            municipality=found.municipality,
            issued_on=found.issued_on,
            pages=found.pages,
            content_hash=found.content_hash,
        )
    )
