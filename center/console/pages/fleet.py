"""The fleet (端末の稼働状況): every terminal with what its last heartbeat said (status, last seen,
printer, card reader, controller, alarm, change owed, build), filtered (silent for more than N
minutes, any of the conditions, the municipality and chain of its store) and paged by terminal
id; a terminal's own page with its history; and, for operators, suspending (一時停止),
reactivating (再開) and revoking (失効) it, each confirmed first and audited with the account's
name (:mod:`center.terminal_status`, the command line's function too). Enrolling a terminal and
placing one (its store, municipality and chain) are :mod:`center.console.fleet_enrolment`'s.

What a terminal's state means is :mod:`center.fleet`'s; the filtering and paging happen there,
in the database.

- **Operators** read every terminal and change any.
- **Municipal staff** see the terminals in stores of their own municipality (the municipality
  given at enrolment), and nothing of a terminal whose store has none or another: its page, or
  a list asked for another municipality, is answered 404. They change nothing here.
- **Auditors** read every terminal; the guard refuses them every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from center.console import fleet_enrolment
from center.console.context import admitted, console_of, show
from center.console.errors import BadInput, OutOfScope
from center.console.page import Page
from center.console.roles import EVERYONE, Role, Viewer
from center.errors import BadRequest, NotFound
from center.fleet import Condition, Fleet, FleetFilter, FleetPage, Status, TerminalView
from center.terminal_status import Action, change_status
from center.terminals import ACTIVE, REVOKED, SUSPENDED, check_chain, check_terminal_id

PAGE = Page(
    "fleet",
    "/fleet",
    ("端末", "Fleet"),
    EVERYONE,
    changers=frozenset({Role.OPERATOR}),
    order=5,
)
router = APIRouter()
fleet_enrolment.add_routes(router, PAGE)  # enrolling and placing a terminal
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer
MOST_MINUTES = 60 * 24 * 366
PLACED = "placed"  # a terminal placed (center.console.fleet_enrolment)
FILTERED = (
    Condition.ALARM,
    Condition.PRINTER_FAULT,
    Condition.CONTROLLER_DOWN,
    Condition.NO_CARD_READER,
    Condition.CHANGE_OWED,
    Condition.PRINTER_WARNING,
)
CONDITION_WORDS = {
    Condition.OFFLINE: ("通信なし", "Offline"),
    Condition.ALARM: ("警報", "Alarm"),
    Condition.PRINTER_FAULT: ("プリンター障害", "Printer fault"),
    Condition.PRINTER_WARNING: ("プリンター要補充", "Printer low"),
    Condition.CONTROLLER_DOWN: ("制御装置停止", "Controller down"),
    Condition.NO_CARD_READER: ("カードリーダーなし", "No card reader"),
    Condition.CHANGE_OWED: ("釣銭未払い", "Change owed"),
}
STATUS_WORDS = {
    Status.ONLINE: ("稼働中", "Online"),
    Status.OFFLINE: ("通信なし", "Offline"),
    Status.NEVER_SEEN: ("未受信", "Never seen"),
}
ENROLMENT_WORDS = {
    ACTIVE: ("有効", "Active"),
    SUSPENDED: ("一時停止中", "Suspended"),
    REVOKED: ("失効", "Revoked"),
}
ACTION_WORDS = {
    Action.SUSPEND: ("一時停止する", "Suspend"),
    Action.ACTIVATE: ("再開する", "Reactivate"),
    Action.REVOKE: ("失効させる", "Revoke"),
}
ACTION_EFFECTS = {
    Action.SUSPEND: (
        "この端末の次のリクエストから、すべての要求 (受付・本人確認・注文・死活監視) を"
        "拒否します (terminal_suspended)。あとで再開できます。",
        "Every request of this terminal (sessions, proofs, orders, heartbeats) is refused from "
        "its next one (terminal_suspended). It can be reactivated later.",
    ),
    Action.ACTIVATE: (
        "この端末の次のリクエストから、通常どおり受け付けます。",
        "This terminal's next request is served as usual.",
    ),
    Action.REVOKE: (
        "この端末の鍵を永久に無効にします。次のリクエストから拒否され (terminal_revoked)、"
        "元に戻せません。端末を使い続けるには新しく登録し直します。",
        "This terminal's key is refused for good from its next request (terminal_revoked); "
        "this cannot be undone. To use the machine again, enrol it anew.",
    ),
}


def _actions(view: TerminalView) -> list[Action]:
    """What an operator may do to a terminal in its enrolment status."""
    if view.enrolment == ACTIVE:
        return [Action.SUSPEND, Action.REVOKE]
    if view.enrolment == SUSPENDED:
        return [Action.ACTIVATE, Action.REVOKE]
    return []


def _fleet(request: Request) -> Fleet:
    console = console_of(request)
    return Fleet(console.database, clock=console.clock)


# -- the list ------------------------------------------------------------------------------------------


@router.get("/fleet")
async def fleet_page(request: Request, viewer: Admitted) -> Response:
    query, asked = _query(request.query_params, viewer)
    after = request.query_params.get("after", "")
    if after:
        _terminal_id(after)
    page: FleetPage = await _fleet(request).page(query, after=after)
    return show(
        request,
        PAGE,
        viewer,
        context={
            "page": page,
            "asked": asked,
            "filtered": FILTERED,
            "next_query": _with(asked, after=page.after) if page.after else None,
            "first_query": _with(asked) if after else None,
            **_words(),
        },
    )


def _query(params: QueryParams, viewer: Viewer) -> tuple[FleetFilter, dict[str, object]]:
    """The filter the address asks for, checked (400 for what is not a filter), and narrowed to
    the viewer's municipality (another: 404); and the filter as the form shows it again."""
    offline_text = params.get("offline", "").strip()
    offline = None
    if offline_text:
        if not offline_text.isdigit() or not 0 <= int(offline_text) <= MOST_MINUTES:
            raise BadInput("bad_filter", "offline for more than a number of minutes")
        offline = int(offline_text)
    having = set()
    for value in params.getlist("condition"):
        try:
            having.add(Condition(value))
        except ValueError:
            raise BadInput("bad_filter", "no such condition") from None
    municipality = viewer.scope.narrowed(params.get("municipality", "").strip() or None)
    chain = params.get("chain", "").strip() or None
    if chain is not None:
        try:
            check_chain(chain)
        except BadRequest:
            raise BadInput("bad_filter", "a chain is 1-32 of a-z, 0-9 and '-'") from None
    revoked = params.get("revoked") == "1"
    query = FleetFilter(
        offline_for=None if offline is None else dt.timedelta(minutes=offline),
        having=frozenset(having),
        municipality=municipality,
        chain=chain,
        revoked=revoked,
    )
    asked: dict[str, object] = {
        "offline": "" if offline is None else str(offline),
        "condition": sorted(condition.value for condition in having),
        "municipality": "" if viewer.role is Role.MUNICIPAL else municipality or "",
        "chain": chain or "",
        "revoked": "1" if revoked else "",
    }
    return query, asked


def _with(asked: Mapping[str, object], **more: object) -> str:
    """The address's query string for the filter ``asked`` (and ``more``)."""
    pairs: list[tuple[str, str]] = []
    for name, value in {**asked, **more}.items():
        if isinstance(value, list):
            pairs.extend((name, str(item)) for item in value)
        elif value:
            pairs.append((name, str(value)))
    return urlencode(pairs)


# -- one terminal ---------------------------------------------------------------------------------------


@router.get("/fleet/terminals/{terminal_id}")
async def terminal_page(request: Request, terminal_id: str, viewer: Admitted) -> Response:
    view = await _visible(request, viewer, terminal_id)
    done = request.query_params.get("done")
    return await _terminal(request, viewer, view, done=done if done in {*Action, PLACED} else None)


@router.post("/fleet/terminals/{terminal_id}/review")
async def review(request: Request, terminal_id: str, viewer: Admitted) -> Response:
    """The confirmation of an action (nothing is changed yet)."""
    view = await _visible(request, viewer, terminal_id)
    action = await _action(request, view)
    return await _terminal(request, viewer, view, proposal=action)


@router.post("/fleet/terminals/{terminal_id}/status")
async def change(request: Request, terminal_id: str, viewer: Admitted) -> Response:
    """Do the action confirmed: audited, in force from the terminal's next request."""
    console = console_of(request)
    view = await _visible(request, viewer, terminal_id)
    action = await _action(request, view)
    try:
        await change_status(
            console.database, console.chain_key, view.terminal_id, action, viewer.name, console.clock()
        )
    except (BadRequest, NotFound) as refused:  # revoked meanwhile, by someone else
        raise BadInput(refused.code, refused.message, status=409) from None
    return RedirectResponse(f"/fleet/terminals/{view.terminal_id}?done={action.value}", status_code=303)


async def _visible(request: Request, viewer: Viewer, terminal_id: str) -> TerminalView:
    """The terminal, if the viewer may see it (404 otherwise, as if it were not there)."""
    view = await _fleet(request).terminal(_terminal_id(terminal_id))
    if view is None or (
        viewer.scope.municipality is not None and view.municipality != viewer.scope.municipality
    ):
        raise OutOfScope("not_found", "there is no such terminal")
    return view


def _terminal_id(text: str) -> str:
    try:
        return check_terminal_id(text)
    except BadRequest:
        raise OutOfScope("not_found", "there is no such terminal") from None


async def _action(request: Request, view: TerminalView) -> Action:
    field = (await request.form()).get("action")
    try:
        action = Action(field if isinstance(field, str) else "")
    except ValueError:
        raise BadInput("bad_action", "no such action") from None
    if action not in _actions(view):
        raise BadInput(
            "terminal_revoked" if view.enrolment == REVOKED else "bad_action",
            f"a terminal {view.enrolment} cannot be given this action",
            status=409,
        )
    return action


async def _terminal(
    request: Request,
    viewer: Viewer,
    view: TerminalView,
    *,
    proposal: Action | None = None,
    done: str | None = None,
) -> Response:
    history = await _fleet(request).history(view.terminal_id)
    return console_of(request).render(
        request,
        "fleet_terminal.html",
        viewer,
        current=PAGE,
        terminal=view,
        history=history,
        actions=_actions(view) if viewer.role is Role.OPERATOR else [],
        placing=viewer.role is Role.OPERATOR and proposal is None,
        proposal=proposal,
        done=done,
        **_words(),
    )


def _words() -> dict[str, Any]:
    return {
        "condition_words": CONDITION_WORDS,
        "status_words": STATUS_WORDS,
        "enrolment_words": ENROLMENT_WORDS,
        "action_words": ACTION_WORDS,
        "action_effects": ACTION_EFFECTS,
    }
