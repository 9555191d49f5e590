"""The participating municipalities (参加団体), as a terminal asks for them: each with its sealing
key statement, signed by the municipality (the center collects and relays them:
``center/sealing_keys.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from center.api.answers import json_answer
from center.api.requests import Center
from center.api.signing import Signed, signed
from center.messages import MunicipalitiesResponse, ParticipatingMunicipality
from documents import b64url_encode

router = APIRouter(tags=["municipalities"])


@router.get("/v1/municipalities", response_model=MunicipalitiesResponse, openapi_extra=signed())
async def municipalities(_call: Signed, service: Center) -> Response:
    """The connected municipalities whose sealing key the center holds, unexpired, by code: for a
    terminal to offer the choice of prefecture and municipality, and to seal to the one chosen.
    Each statement is the municipality's, relayed unchanged; a terminal uses only those that
    verify against its trusted municipal keys."""
    participating = await service.sealing_keys.participating()
    return json_answer(
        MunicipalitiesResponse(
            municipalities=[
                ParticipatingMunicipality(code=entry.municipality, statement=b64url_encode(entry.statement))
                for entry in participating
            ]
        )
    )
