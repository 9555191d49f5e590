"""A terminal's own state: its maintenance door and tamper alarms (signed by the terminal)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from center.api.answers import json_answer
from center.api.requests import Center, parsed
from center.api.signing import Signed, signed
from center.messages import AlarmRecorded, AlarmReport

router = APIRouter(tags=["terminals"])


@router.post("/v1/terminal/alarms", response_model=AlarmRecorded, openapi_extra=signed(AlarmReport))
async def terminal_alarm(call: Signed, service: Center) -> Response:
    """The terminal's maintenance door opened outside maintenance mode or its tamper switch
    tripped (``raised``: it is out of service), or staff cleared the alarm (``cleared``)."""
    report = parsed(AlarmReport, call.body)
    await service.terminal_alarm(call.terminal_id, report.causes, report.state)
    return json_answer(AlarmRecorded(causes=report.causes, state=report.state))
