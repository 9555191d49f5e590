"""The audit log (監査ログ), newest first, filtered by day (from, to: days in Japan), kind of
decision and actor, with the chain's verification under its key (what ``koufu center
audit-verify`` prints). For the center's people: operators and auditors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from center.audit import ChainReport, verify_chain
from center.console.context import admitted, console_of, show
from center.console.errors import BadInput
from center.console.page import Page
from center.console.roles import CENTER, Viewer
from center.store.tables import audit_log
from documents import JST

PAGE = Page("audit", "/audit", ("監査ログ", "Audit log"), CENTER, order=30)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer
SHOWN = 200  # rows on the page, the newest that match


@router.get("/audit")
async def audit_page(request: Request, viewer: Admitted) -> Response:
    console = console_of(request)
    asked = request.query_params
    first, last = _day(asked.get("from")), _day(asked.get("to"))
    event, actor = asked.get("event") or None, asked.get("actor") or None
    if (event and len(event) > 40) or (actor and len(actor) > 64):
        raise BadInput("bad_filter", "no such kind or actor")
    query = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(SHOWN)
    if first is not None:
        query = query.where(audit_log.c.at >= _midnight(first))
    if last is not None:
        query = query.where(audit_log.c.at < _midnight(last + dt.timedelta(days=1)))
    if event is not None:
        query = query.where(audit_log.c.event == event)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)

    def read(connection: sa.Connection) -> tuple[list[sa.Row[tuple[object, ...]]], list[str], list[str]]:
        rows = list(connection.execute(query).all())
        events = list(
            connection.execute(sa.select(audit_log.c.event).distinct().order_by(audit_log.c.event)).scalars()
        )
        actors = list(
            connection.execute(
                sa.select(audit_log.c.actor)
                .where(audit_log.c.actor.is_not(None))
                .distinct()
                .order_by(audit_log.c.actor)
            ).scalars()
        )
        return rows, events, actors

    rows, events, actors = await console.read(read)
    chain: ChainReport = await console.read(lambda connection: verify_chain(connection, console.chain_key))
    return show(
        request,
        PAGE,
        viewer,
        context={
            "rows": [_shown(row) for row in rows],
            "events": events,
            "actors": actors,
            "chain": chain,
            "asked": {
                "from": asked.get("from", ""),
                "to": asked.get("to", ""),
                "event": event,
                "actor": actor,
            },
            "limit": SHOWN,
        },
    )


def _midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in Japan, as UTC: SQLite compares the text of the UTC times it keeps,
    whatever zone a bound time is given in."""
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.UTC)


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput("bad_day", "a day is YYYY-MM-DD") from None


def _shown(row: sa.Row[tuple[object, ...]]) -> dict[str, object]:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
    return {
        "seq": row.seq,
        "at": at,
        "event": row.event,
        "outcome": row.outcome,
        "reason": row.reason,
        "terminal_id": row.terminal_id,
        "subject": row.subject,
        "occurrences": row.occurrences,
        "actor": row.actor,
        "detail": row.detail,  # what an operator's action concerned (a calendar change, a stop)
    }
