"""Orders (交付申請) as a terminal places and follows them (the logic is in ``orders.py``).

Every call is signed by the terminal; placing an order carries its idempotency key in the signed
body. An order's id in a path is checked before its body is read.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from center.api.answers import json_answer
from center.api.requests import Center, canonical_uuid, parsed
from center.api.signing import Signed, signed
from center.errors import BadRequest
from center.messages import (
    CopyResponse,
    OfferResponse,
    OrderRequest,
    OrderResponse,
    PrintedRequest,
    SettleRequest,
    VoidRequest,
)
from center.orders import PlacedOrder
from center.service import CenterService, Source
from documents import b64url_encode

router = APIRouter(tags=["orders"])


def _answer(placed: PlacedOrder, status: int = 200) -> Response:
    return json_answer(
        OrderResponse(
            order_id=placed.order_id,
            state=placed.state.value,
            fee=placed.fee,
            reason=placed.reason,
            copies=[
                CopyResponse(
                    issue_number=c.issue_number, pages=c.pages, fee=c.fee, sealed=b64url_encode(c.sealed)
                )
                for c in placed.copies
            ],
        ),
        status,
    )


async def _state(service: CenterService, terminal_id: str, order_id: str) -> Response:
    return _answer(await service.orders.state(terminal_id, order_id))


@router.get("/v1/sessions/{session_id}/offer", response_model=OfferResponse, openapi_extra=signed())
async def offer(
    session_id: str,
    call: Signed,
    service: Center,
    source: str = Query(
        "residence",
        description=(
            "residence (the resident's municipality) or domicile (the registered domicile, 本籍地,"
            " the holder's usage registration routes to)"
        ),
    ),
) -> Response:
    """What the session's resident can have now: per certificate its fee, copies and whether it
    can be issued (and why not); ``sealed``: household members, tax years and options, sealed
    to this terminal by the municipality (base64url, docs/protocol.md section 5.6). The
    municipality's answer is relayed as it came (``response_model`` only describes it)."""
    if source not in ("residence", "domicile"):
        raise BadRequest("invalid_query", "source is residence or domicile")
    asked: Source = "domicile" if source == "domicile" else "residence"
    offered = await service.offer(call.terminal_id, canonical_uuid(session_id, "session"), asked)
    return Response(json.dumps(offered, ensure_ascii=False), media_type="application/json")


@router.post(
    "/v1/sessions/{session_id}/orders",
    status_code=201,
    response_model=OrderResponse,
    openapi_extra=signed(OrderRequest),
)
async def place(session_id: str, call: Signed, service: Center) -> Response:
    """Order certificates for the session's resident: the copies, sealed to this terminal."""
    order = parsed(OrderRequest, call.body)
    placed = await service.place_order(
        call.terminal_id,
        canonical_uuid(session_id, "session"),
        order.idempotency_key,
        {"printer": order.printer, "items": [item.model_dump() for item in order.items]},
        order.source,
    )
    return _answer(placed, 201)


@router.get("/v1/orders/{order_id}", response_model=OrderResponse, openapi_extra=signed())
async def state(order_id: str, call: Signed, service: Center) -> Response:
    return await _state(service, call.terminal_id, canonical_uuid(order_id, "order"))


Route = Callable[..., Awaitable[Response]]


def _course(action: str, body: type[BaseModel] | None = None) -> Callable[[Route], Route]:
    """The route of one step of an order's course: ``POST /v1/orders/{order_id}/<action>``,
    answered with the order's state."""
    return router.post(
        f"/v1/orders/{{order_id}}/{action}", response_model=OrderResponse, openapi_extra=signed(body)
    )


@_course("printing")
async def printing(order_id: str, call: Signed, service: Center) -> Response:
    """The job goes to the printer now: from here on only the terminal ends the order (no
    deadline voids it)."""
    order = canonical_uuid(order_id, "order")
    await service.orders.printing(call.terminal_id, order)
    return await _state(service, call.terminal_id, order)


@_course("printed", PrintedRequest)
async def printed(order_id: str, call: Signed, service: Center) -> Response:
    """These copies came out whole; the order's other copies are void (their fees not due)."""
    order = canonical_uuid(order_id, "order")
    await service.orders.printed(call.terminal_id, order, parsed(PrintedRequest, call.body).issue_numbers)
    return await _state(service, call.terminal_id, order)


@_course("settle", SettleRequest)
async def settle(order_id: str, call: Signed, service: Center) -> Response:
    """The coins went from escrow into the cash box: the fees of the copies printed, exactly
    (else ``wrong_amount``, audited)."""
    order = canonical_uuid(order_id, "order")
    await service.orders.settle(call.terminal_id, order, parsed(SettleRequest, call.body).paid)
    return await _state(service, call.terminal_id, order)


@_course("void", VoidRequest)
async def void(order_id: str, call: Signed, service: Center) -> Response:
    """Cancel the order: its copies are voided at the municipality."""
    order = canonical_uuid(order_id, "order")
    await service.orders.void(call.terminal_id, order, parsed(VoidRequest, call.body).reason)
    return await _state(service, call.terminal_id, order)


@_course("refunded")
async def refunded(order_id: str, call: Signed, service: Center) -> Response:
    """The coins went back to the resident."""
    order = canonical_uuid(order_id, "order")
    await service.orders.refunded(call.terminal_id, order)
    return await _state(service, call.terminal_id, order)
