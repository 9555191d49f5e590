"""Orders that need a person (要対応の注文): the orders no terminal will end, the reports the center
refused (escalated at the kiosks), the voids a municipality has not heard of, and the partly
printed orders (:mod:`center.attention`), with what may be done to each (:mod:`center.order_desk`).

Who does what:

- **operators** end an order along its table: void it and record the refund, settle it after the
  store's cash count, record a voided order's refund. These are the store's cash and the center's
  ledger, which the center settles with the store: municipal staff do none of them.
- **municipal staff** see their own municipality's orders only (another's, in the address too,
  is answered 404) and do the one thing that is their municipality's: confirm that it voided
  by hand the copies of a void it could not be told of.
- **auditors** read.

Each list shows a page of at most 200 rows with how many there are in all, and the links to its
next page and back to its first (keyset paging, each list its own cursor in the address:
``after`` for the orders not ended, ``reports_after``, ``pending_after``, ``partly_after``).

Every action needs the person to say what they checked (the store's confirmation of a refund, the
amount counted, the copies voided at the municipality), is one transaction with its audit line
(``order_by_hand``, with who did it), and a refused one is audited with its code.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from center.attention import QUIET, RECENT, needing_a_person, order_case, valid_cursor
from center.console.context import admitted, console_of, show
from center.console.errors import BadInput, ConsoleError, NotAllowed, OrderRefused, OutOfScope
from center.console.page import Page
from center.console.roles import EVERYONE, Role, Viewer
from center.errors import CenterError, NotFound
from center.order_desk import OrderDesk
from center.order_states import HandAction

PAGE = Page(
    "attention",
    "/attention",
    ("要対応の注文", "Orders needing a person"),
    EVERYONE,
    changers=frozenset({Role.OPERATOR, Role.MUNICIPAL}),
    order=22,
)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer
ORDER_ID = re.compile(r"[A-Za-z0-9-]{1,40}")
DIGITS = re.compile(r"[0-9]{1,8}")
CONFIRM_VOID = "void-confirmed"
ACTIONS = {action.value: action for action in HandAction}
MAX_MINUTES, MAX_DAYS = 7 * 24 * 60, 92
MAX_COUNTED = 10_000_000  # yen: more than any order's fees
CURSORS = {  # each list's cursor in the address
    "not_ended": "after",
    "refused_reports": "reports_after",
    "voids_pending": "pending_after",
    "partly_printed": "partly_after",
}


@router.get("/attention")
async def attention_page(request: Request, viewer: Admitted) -> Response:
    console = console_of(request)
    asked = request.query_params
    municipality = viewer.scope.narrowed(asked.get("municipality"))
    quiet = dt.timedelta(
        minutes=_number(asked.get("minutes"), QUIET.seconds // 60, MAX_MINUTES, "bad_minutes")
    )
    recent = dt.timedelta(days=_number(asked.get("days"), RECENT.days, MAX_DAYS, "bad_days"))
    after = {name: asked[param] for name, param in CURSORS.items() if asked.get(param)}
    for name, cursor in after.items():
        if not valid_cursor(name, cursor):
            raise BadInput("bad_cursor", "not a page of this list")
    now = console.clock()
    attention = await console.read(
        lambda connection: needing_a_person(
            connection, now, municipality=municipality, quiet=quiet, recent=recent, after=after
        )
    )
    shown = {
        "minutes": asked.get("minutes", ""),
        "days": asked.get("days", ""),
        "municipality": asked.get("municipality", ""),
        **{CURSORS[name]: cursor for name, cursor in after.items()},
    }
    pages = {
        name: {
            "next": _query(shown, **{param: attention.cursors.get(name)})
            if attention.cursors.get(name)
            else None,
            "first": _query(shown, **{param: ""}) if name in after else None,
        }
        for name, param in CURSORS.items()
    }
    done, order = asked.get("done"), asked.get("order")
    handled = (
        (done, order) if done in (*ACTIONS, CONFIRM_VOID) and order and ORDER_ID.fullmatch(order) else None
    )
    return show(
        request,
        PAGE,
        viewer,
        context={
            "attention": attention,
            "municipality": municipality,
            "minutes": int(quiet.total_seconds() // 60),
            "days": recent.days,
            "handled": handled,
            "pages": pages,
            "acts": viewer.role is Role.OPERATOR,
            "confirms": viewer.role is Role.MUNICIPAL,
        },
    )


@router.post("/attention/orders/{order_id}/{action}")
async def handle(request: Request, order_id: str, action: str, viewer: Admitted) -> Response:
    console = console_of(request)
    if not ORDER_ID.fullmatch(order_id) or action not in (*ACTIONS, CONFIRM_VOID):
        raise OutOfScope("not_found", "nothing here")
    form = await request.form()
    desk = OrderDesk(console.database, console.chain_key, shares=console.shares, clock=console.clock)
    try:
        if action == CONFIRM_VOID:
            if viewer.role is not Role.MUNICIPAL or viewer.municipality is None:
                raise NotAllowed("not_allowed", "only the municipality's staff confirm its voids")
            _confirmed(form.get("confirm"))
            await desk.confirm_void(order_id, actor=viewer.name, municipality=viewer.municipality)
        else:
            if viewer.role is not Role.OPERATOR:
                await _refuse_municipal(request, viewer, order_id)
            hand = ACTIONS[action]
            counted = _counted(form.get("counted")) if hand is HandAction.SETTLE else None
            if hand is not HandAction.SETTLE:
                _confirmed(form.get("confirm"))
            await desk.handle(order_id, hand, actor=viewer.name, counted=counted)
    except NotFound:
        raise OutOfScope("not_found", "nothing here") from None
    except CenterError as refused:
        if isinstance(refused, ConsoleError):  # the page's own refusals, as they are
            raise
        raise OrderRefused(
            refused.code, refused.message, status=refused.status, details=refused.details
        ) from None
    return RedirectResponse(f"/attention?done={action}&order={order_id}", status_code=303)


async def _refuse_municipal(request: Request, viewer: Viewer, order_id: str) -> None:
    """Municipal staff do not end orders: refused (403) for their municipality's order, and as if
    there were nothing there (404) for any other."""
    case = await console_of(request).read(lambda connection: order_case(connection, order_id))
    if case is None or not viewer.scope.admits(case.municipality):
        raise OutOfScope("not_found", "nothing here")
    raise NotAllowed("not_allowed", "the center's operators end orders")


def _query(asked: dict[str, str], **changed: str | None) -> str:
    """The page's query string with ``changed`` (an empty value: left out)."""
    return urlencode([(name, value) for name, value in {**asked, **changed}.items() if value])


def _confirmed(value: object) -> None:
    if value != "yes":
        raise BadInput("confirmation_required", "say what was checked before recording it")


def _counted(value: object) -> int:
    if not isinstance(value, str) or not DIGITS.fullmatch(value) or int(value) > MAX_COUNTED:
        raise BadInput("bad_amount", "the amount counted is a whole number of yen")
    return int(value)


def _number(value: str | None, default: int, highest: int, code: str) -> int:
    if value is None or value == "":
        return default
    if not DIGITS.fullmatch(value) or not 1 <= int(value) <= highest:
        raise BadInput(code, f"a whole number from 1 to {highest}")
    return int(value)
