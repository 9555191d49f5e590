"""The service calendar (サービスカレンダー), read-only for now: whether issuance is open now (for
the viewer's municipality, or one chosen by the center's staff), the national hours and year-end
closure, maintenance windows, municipal stops, per-type hours and suspensions. Municipal staff see
the national rules and their own municipality's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from center.calendar_store import load_calendar
from center.console.context import admitted, console_of, show
from center.console.page import Page
from center.console.roles import EVERYONE, Viewer

PAGE = Page("calendar", "/calendar", ("サービスカレンダー", "Service calendar"), EVERYONE, order=40)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer


@router.get("/calendar")
async def calendar_page(request: Request, viewer: Admitted) -> Response:
    console = console_of(request)
    municipality = viewer.scope.narrowed(request.query_params.get("municipality"))
    calendar = await console.read(load_calendar)
    now = console.clock()

    def concerns(code: str | None) -> bool:
        return viewer.scope.admits(code) and (municipality is None or code in (None, municipality))

    return show(
        request,
        PAGE,
        viewer,
        context={
            "municipality": municipality,
            "now": now,
            "decision": calendar.check(now, municipality),
            "calendar": calendar,
            "stops": [stop for stop in calendar.municipality_stops if concerns(stop.municipality)],
            "hours": [rule for rule in calendar.certificate_hours if concerns(rule.municipality)],
            "suspensions": [rule for rule in calendar.suspensions if concerns(rule.municipality)],
        },
    )
