"""The audit log (監査ログ), newest first, filtered by day (from, to: days in Japan), kind of
decision and actor, with the chain's verification under its key (what ``koufu center
audit-verify`` prints), incremental but for the first view, on request (``verify=full``) and
while broken (:mod:`center.console.chain_watch`). For the center's people: operators and
auditors.

A page shows at most :data:`SHOWN` lines, with how many match in all, and links to the next page
and back to the first: keyset paging on the line's ``seq`` (``after=SEQ``: the lines older than
that one), so a page stays the same however many lines are written meanwhile."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from center.console.context import admitted, asked_day, console_of, show
from center.console.errors import BadInput
from center.console.page import Page
from center.console.roles import CENTER, Viewer
from center.store.tables import audit_log
from documents import JST

PAGE = Page("audit", "/audit", ("監査ログ", "Audit log"), CENTER, order=30)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer
SHOWN = 200  # rows on the page, the newest that match
SEQ = re.compile(r"[0-9]{1,19}")


@router.get("/audit")
async def audit_page(request: Request, viewer: Admitted) -> Response:
    console = console_of(request)
    asked = request.query_params
    first, last = asked_day(asked.get("from")), asked_day(asked.get("to"))
    event, actor = asked.get("event") or None, asked.get("actor") or None
    if (event and len(event) > 40) or (actor and len(actor) > 64):
        raise BadInput("bad_filter", "no such kind or actor")
    after = asked.get("after") or None
    if after is not None and not SEQ.fullmatch(after):
        raise BadInput("bad_cursor", "not a page of the audit log")
    where: list[sa.ColumnElement[bool]] = []
    if first is not None:
        where.append(audit_log.c.at >= _midnight(first))
    if last is not None:
        where.append(audit_log.c.at < _midnight(last + dt.timedelta(days=1)))
    if event is not None:
        where.append(audit_log.c.event == event)
    if actor is not None:
        where.append(audit_log.c.actor == actor)
    counting = sa.select(sa.func.count()).select_from(audit_log).where(*where)
    query = sa.select(audit_log).where(*where).order_by(audit_log.c.seq.desc()).limit(SHOWN + 1)
    if after is not None:
        query = query.where(audit_log.c.seq < int(after))

    def read(
        connection: sa.Connection,
    ) -> tuple[list[sa.Row[tuple[object, ...]]], int, list[str], list[str]]:
        rows = list(connection.execute(query).all())
        total = int(connection.execute(counting).scalar_one())
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
        return rows, total, events, actors

    rows, total, events, actors = await console.read(read)
    full = asked.get("verify") == "full"
    chain = await console.chain.verify(console.read, console.clock(), full=full)
    filters = {"from": asked.get("from", ""), "to": asked.get("to", ""), "event": event, "actor": actor}
    more = len(rows) > SHOWN
    rows = rows[:SHOWN]
    return show(
        request,
        PAGE,
        viewer,
        context={
            "rows": [_shown(row) for row in rows],
            "events": events,
            "actors": actors,
            "chain": chain.report,
            "check": chain,
            "verify_query": _query(filters, verify="full"),
            "asked": {
                "from": asked.get("from", ""),
                "to": asked.get("to", ""),
                "event": event,
                "actor": actor,
            },
            "limit": SHOWN,
            "total": total,
            "next_query": _query(filters, after=str(rows[-1].seq)) if more else None,
            "first_query": _query(filters) if after is not None else None,
        },
    )


def _query(filters: dict[str, str | None], **more: str) -> str:
    """The page's query string: its filters (those set) and ``more``."""
    return urlencode([(name, value) for name, value in {**filters, **more}.items() if value])


def _midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in Japan, as UTC: SQLite compares the text of the UTC times it keeps,
    whatever zone a bound time is given in."""
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.UTC)


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
