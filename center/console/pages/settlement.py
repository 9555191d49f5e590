"""The daily settlement (日次精算): what ``koufu center settlement`` prints, for one day in Japan —
what each municipality, each store and the center are owed for the copies settled that day — as a
page and as CSV (``/settlement.csv``). Center staff may narrow it to one municipality
(``?municipality=``); municipal staff see their own municipality's orders only, and asking for
another is answered 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from center.console.context import admitted, console_of, show
from center.console.errors import BadInput
from center.console.page import Page
from center.console.roles import EVERYONE, Viewer
from center.console.spreadsheet import csv_text, download
from center.settlement import Settlement, daily
from documents import tokyo_day

PAGE = Page("settlement", "/settlement", ("日次精算", "Settlement"), EVERYONE, order=20)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer


@router.get("/settlement")
async def settlement_page(request: Request, viewer: Admitted) -> Response:
    day, municipality, settlement = await _settlement(request, viewer)
    return show(
        request,
        PAGE,
        viewer,
        context={"settlement": settlement, "day": day, "municipality": municipality},
    )


@router.get("/settlement.csv")
async def settlement_csv(request: Request, viewer: Admitted) -> Response:
    day, municipality, settlement = await _settlement(request, viewer)
    name = f"settlement-{day.isoformat()}{'-' + municipality if municipality else ''}.csv"
    return download(as_csv(settlement), name)


def as_csv(settlement: Settlement) -> str:
    """One line per account and party, then the total collected; a cell a spreadsheet would take
    for a formula is quoted with a leading apostrophe (:mod:`center.console.spreadsheet`)."""
    day = settlement.day.isoformat()
    rows: list[list[str | int]] = [
        [day, "municipality", code, amount] for code, amount in sorted(settlement.municipalities.items())
    ]
    rows += [[day, "store", store, amount] for store, amount in sorted(settlement.stores.items())]
    rows.append([day, "center", "", settlement.center])
    rows.append([day, "collected", f"{settlement.orders} orders", settlement.collected])
    return csv_text(["day", "account", "party", "yen"], rows)


async def _settlement(request: Request, viewer: Viewer) -> tuple[dt.date, str | None, Settlement]:
    console = console_of(request)
    municipality = viewer.scope.narrowed(request.query_params.get("municipality"))
    asked = request.query_params.get("day")
    try:
        day = dt.date.fromisoformat(asked) if asked else tokyo_day(console.clock())
    except ValueError:
        raise BadInput("bad_day", "the day is YYYY-MM-DD") from None
    settlement = await console.read(lambda connection: daily(connection, day, municipality))
    return day, municipality, settlement
