"""A terminal's own state, signed by the terminal: its maintenance door and tamper alarms, and its
heartbeat (死活監視: build, settings, devices, every 30 seconds)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from center.api.answers import json_answer
from center.api.plain_route import PlainRoute
from center.api.requests import Center, parsed
from center.api.signing import Signed, authenticated, received, signed
from center.heartbeats import Heartbeat
from center.json_body import declares_json
from center.messages import AlarmRecorded, AlarmReport, HeartbeatRecorded, HeartbeatReport

router = APIRouter(tags=["terminals"])
# the heartbeat on a router of its own: a center process group may serve it alone (``--role
# heartbeats``, center/app.py)
heartbeat_router = APIRouter(tags=["terminals"])


@router.post("/v1/terminal/alarms", response_model=AlarmRecorded, openapi_extra=signed(AlarmReport))
async def terminal_alarm(call: Signed, service: Center) -> Response:
    """The terminal's maintenance door opened outside maintenance mode or its tamper switch
    tripped (``raised``: it is out of service), or staff cleared the alarm (``cleared``)."""
    report = parsed(AlarmReport, call.body)
    await service.terminal_alarm(call.terminal_id, report.causes, report.state)
    return json_answer(AlarmRecorded(causes=report.causes, state=report.state))


async def heartbeat(request: Request, service: Center) -> Response:
    """The terminal's heartbeat, about every 30 seconds: its build and settings' hash, its
    printer, card reader and peripheral controller, a latched alarm, the change owed, the minute
    its last session ended. Nothing about a person. Kept as the terminal's latest state; the
    operators' console derives online or offline from when it last came."""
    # Signed like every terminal route, but the signature is checked here rather than by the
    # dependency: a good heartbeat of a terminal this process knows is authenticated and kept in
    # one statement with the others arriving meanwhile (CenterService.signed_heartbeat). Anything
    # else takes the full path, which decides, refuses and answers as every signed route does.
    sent = received(request, await request.body())
    beat = _good_report(sent.body) if declares_json(sent.headers.get("content-type")) else None
    kept = None if beat is None else await service.signed_heartbeat(sent, beat)
    if kept is None:
        call = await authenticated(sent, service)
        report = parsed(HeartbeatReport, call.body)
        kept = await service.heartbeat(call.terminal_id, Heartbeat(**report.model_dump()))
    return json_answer(HeartbeatRecorded(received_at=kept))


heartbeat_router.add_api_route(
    "/v1/heartbeats",
    heartbeat,
    methods=["POST"],
    response_model=HeartbeatRecorded,
    openapi_extra=signed(HeartbeatReport),
    route_class_override=PlainRoute,  # thousands a second: no dependency solved for each
)


def _good_report(body: bytes) -> Heartbeat | None:
    """The heartbeat ``body`` reports, or ``None`` (the full path refuses it once its terminal is
    authenticated: a body is parsed for its own sake only after the signature)."""
    try:
        return Heartbeat(**HeartbeatReport.model_validate_json(body).model_dump())
    except ValidationError:
        return None
