"""The center's HTTP API for orders (FastAPI routes added to the app of ``app.py``; translation
only, the logic is in ``orders.py``). Every call is signed by the terminal; placing an order
carries its idempotency key in the signed body.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError

from center import verification
from center.errors import BadRequest, NotFound
from center.orders import PlacedOrder
from center.protocol import b64url
from center.service import CenterService


class OrderItem(BaseModel):
    certificate_type: str = Field(max_length=40)
    copies: int = Field(ge=1, le=50)
    options: dict[str, Any] = Field(default_factory=dict)


class OrderRequest(BaseModel):
    idempotency_key: str = Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="the terminal's key for this order: the same key is the same order",
    )
    printer: int = Field(ge=1, le=99)
    items: list[OrderItem] = Field(min_length=1, max_length=10)


class CopyResponse(BaseModel):
    issue_number: str
    pages: int
    fee: int
    sealed: str = Field(
        description="the copy sealed to this terminal's key (base64url), see docs/municipal.md"
    )


class OrderResponse(BaseModel):
    order_id: str
    state: str
    fee: int | None = None
    reason: str | None = None
    copies: list[CopyResponse] = Field(default_factory=list)


class VerificationResponse(BaseModel):
    issue_number: str
    status: str = Field(description="valid, voided, not_printed or unknown (no such copy, or not this code)")
    municipality: str | None = None
    issued_on: str | None = None
    pages: int | None = None
    content_hash: str | None = None


class PrintedRequest(BaseModel):
    issue_numbers: list[str] = Field(min_length=1, max_length=100)


class SettleRequest(BaseModel):
    paid: int = Field(ge=0, le=1_000_000, description="yen taken from escrow into the cash box")


class VoidRequest(BaseModel):
    reason: str = Field(pattern=r"^[a-z_]{1,40}$", description="why, as a code: cancelled, print_timeout, …")


def _body(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise BadRequest("invalid_body", "the request body is not valid") from None


def canonical_uuid(text: str, what: str) -> str:
    """``text`` if it is a UUID as the center writes them (``str(uuid4())``); else NotFound
    ``unknown_<what>``: anything else names nothing, and is refused before the database sees it."""
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        canonical = None
    if canonical != text:
        raise NotFound(f"unknown_{what}", f"no such {what} for this terminal")
    return text


def _answer(placed: PlacedOrder, status: int = 200) -> Response:
    answer = OrderResponse(
        order_id=placed.order_id,
        state=placed.state.value,
        fee=placed.fee,
        reason=placed.reason,
        copies=[
            CopyResponse(issue_number=c.issue_number, pages=c.pages, fee=c.fee, sealed=b64url(c.sealed))
            for c in placed.copies
        ],
    )
    return Response(
        answer.model_dump_json(exclude_none=True), status_code=status, media_type="application/json"
    )


Handler = Callable[[str, Request], Awaitable[Response]]


def add_order_routes(app: FastAPI, service: CenterService, signed: dict[str, Any]) -> None:
    from center.app import _terminal_request

    def extra(model: type[BaseModel]) -> dict[str, Any]:
        return {
            **signed,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": model.model_json_schema()}},
            },
        }

    async def terminal(request: Request) -> tuple[str, bytes]:
        signed_request = _terminal_request(request, await request.body())
        return await service.authenticate_terminal(signed_request), signed_request.body

    @app.get("/v1/verify", response_model=VerificationResponse, tags=["verification"])
    async def verify_copy(
        issue_number: str = Query("", description="as printed on the page (the copy's or a page's)"),
        code: str = Query("", description="the verification code printed beside it"),
    ) -> Response:
        """Public, no authentication: is the copy with this issue number and verification code
        genuine, and does it stand? Nothing about the person."""
        try:
            found = await verification.verify(service.database, issue_number, code)
        except ValueError as error:
            raise BadRequest("invalid_query", str(error)) from None
        answer = VerificationResponse(
            issue_number=found.issue_number,
            status=found.status.value,
            municipality=found.municipality,
            issued_on=found.issued_on,
            pages=found.pages,
            content_hash=found.content_hash,
        )
        return Response(answer.model_dump_json(exclude_none=True), media_type="application/json")

    @app.get("/v1/sessions/{session_id}/offer", tags=["orders"], openapi_extra=signed)
    async def offer(session_id: str, request: Request) -> Response:
        """What the session's resident can have now: per certificate its fee, copies and whether it
        can be issued (and why not); ``sealed``: household members, tax years and options, sealed
        to this terminal by the municipality (base64url, see docs/municipal.md)."""
        terminal_id, _ = await terminal(request)
        offered = await service.offer(terminal_id, canonical_uuid(session_id, "session"))
        return Response(json.dumps(offered, ensure_ascii=False), media_type="application/json")

    @app.post(
        "/v1/sessions/{session_id}/orders",
        status_code=201,
        response_model=OrderResponse,
        tags=["orders"],
        openapi_extra=extra(OrderRequest),
    )
    async def place(session_id: str, request: Request) -> Response:
        """Order certificates for the session's resident: the copies, sealed to this terminal."""
        terminal_id, body = await terminal(request)
        order: OrderRequest = _body(OrderRequest, body)
        placed = await service.orders.place(
            terminal_id,
            canonical_uuid(session_id, "session"),
            order.idempotency_key,
            {"printer": order.printer, "items": [item.model_dump() for item in order.items]},
        )
        return _answer(placed, 201)

    @app.get("/v1/orders/{order_id}", response_model=OrderResponse, tags=["orders"], openapi_extra=signed)
    async def state(order_id: str, request: Request) -> Response:
        terminal_id, _ = await terminal(request)
        return _answer(await service.orders.state(terminal_id, canonical_uuid(order_id, "order")))

    async def move(
        order_id: str, request: Request, act: Callable[[str, str, bytes], Awaitable[object]]
    ) -> Response:
        """Authenticate the terminal, do ``act(terminal, order, body)``, answer the order's state."""
        terminal_id, body = await terminal(request)
        order_id = canonical_uuid(order_id, "order")
        await act(terminal_id, order_id, body)
        return _answer(await service.orders.state(terminal_id, order_id))

    def route(action: str, model: type[BaseModel] | None) -> Callable[[Handler], Handler]:
        return app.post(
            f"/v1/orders/{{order_id}}/{action}",
            response_model=OrderResponse,
            tags=["orders"],
            openapi_extra=signed if model is None else extra(model),
        )

    @route("printed", PrintedRequest)
    async def printed(order_id: str, request: Request) -> Response:
        """These copies came out of the printer."""
        return await move(
            order_id,
            request,
            lambda terminal_id, order, body: service.orders.printed(
                terminal_id, order, _body(PrintedRequest, body).issue_numbers
            ),
        )

    @route("settle", SettleRequest)
    async def settle(order_id: str, request: Request) -> Response:
        """The coins went from escrow into the cash box."""
        return await move(
            order_id,
            request,
            lambda terminal_id, order, body: service.orders.settle(
                terminal_id, order, _body(SettleRequest, body).paid
            ),
        )

    @route("void", VoidRequest)
    async def void(order_id: str, request: Request) -> Response:
        """Cancel the order: its copies are voided at the municipality."""
        return await move(
            order_id,
            request,
            lambda terminal_id, order, body: service.orders.void(
                terminal_id, order, _body(VoidRequest, body).reason
            ),
        )

    @route("refunded", None)
    async def refunded(order_id: str, request: Request) -> Response:
        """The coins went back to the resident."""
        return await move(
            order_id,
            request,
            lambda terminal_id, order, _body_bytes: service.orders.refunded(terminal_id, order),
        )
