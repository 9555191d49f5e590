"""The overview (概要): who is signed in, and today at a glance — the service open or closed
now, and today's settlement so far (the viewer's municipality only, for municipal staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from center.calendar_store import load_calendar
from center.console.context import admitted, console_of, show
from center.console.page import Page
from center.console.roles import EVERYONE, Viewer
from center.settlement import daily
from documents import tokyo_day

PAGE = Page("home", "/", ("概要", "Overview"), EVERYONE, order=0)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer


@router.get("/")
async def overview(request: Request, viewer: Admitted) -> Response:
    console = console_of(request)
    now = console.clock()
    municipality = viewer.scope.municipality
    settlement = await console.read(lambda connection: daily(connection, tokyo_day(now), municipality))
    calendar = await console.read(load_calendar)
    return show(
        request,
        PAGE,
        viewer,
        context={"settlement": settlement, "decision": calendar.check(now, municipality), "now": now},
    )
