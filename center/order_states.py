"""An order's life (注文の状態), as one transition table.

    requested ──issued──▶ issued ──printing──▶ printing ──printed──▶ printed ──settle──▶ settled
        │                   │                      │
        └──────void─────────┴─────────void─────────┴──▶ voided ──refunded──▶ refunded

An order is either printed and paid (settled), or voided and refunded: never both, never
neither. A terminal says ``printing`` before its job goes to the printer; from then on only the
terminal ends the order (no deadline voids an order that may have paper out). Its ``printed``
report lists the copies that came out whole: those are printed and paid, every other copy of the
order is void at the municipality and its fee refunded (a terminal whose job printed no whole
copy voids the order). A printed order is never voided (its copies exist on paper; a misprint
is the counter's business). An event that finds the order already where it leads changes
nothing (a terminal retrying after a lost answer); any other event out of place is refused.

An order its terminal cannot end (the terminal is gone, or the center refused its report) is
ended by a person at the center (:mod:`center.order_desk`), and only along this same table
(:data:`BY_HAND`): voided with its refund recorded (the store gave the coins back, or none were
taken), settled after the store's cash count, or a voided order's refund recorded. A person
voids only what a deadline voids (:data:`OPEN`): a printing order may have paper out, so only its
terminal ends it (its journal, read at the terminal, says what came out); a printed one is never
voided by hand either.
"""

from __future__ import annotations

from enum import StrEnum

from center.errors import Conflict


class OrderState(StrEnum):
    REQUESTED = "requested"  # asked of the municipality
    ISSUED = "issued"  # copies delivered, sealed, to the terminal
    PRINTING = "printing"  # the terminal's job went to the printer: only the terminal ends it
    PRINTED = "printed"  # the copies listed came out whole (the others are void)
    SETTLED = "settled"  # the coins went from escrow to the cash box; the ledger is written
    VOIDED = "voided"  # cancelled: the municipality voids the copies
    REFUNDED = "refunded"  # the coins went back to the resident


class OrderEvent(StrEnum):
    ISSUED = "issued"
    PRINTING = "printing"
    PRINTED = "printed"
    SETTLE = "settle"
    VOID = "void"
    REFUNDED = "refunded"


TRANSITIONS: dict[tuple[OrderState, OrderEvent], OrderState] = {
    (OrderState.REQUESTED, OrderEvent.ISSUED): OrderState.ISSUED,
    (OrderState.REQUESTED, OrderEvent.VOID): OrderState.VOIDED,
    (OrderState.ISSUED, OrderEvent.PRINTING): OrderState.PRINTING,
    (OrderState.ISSUED, OrderEvent.VOID): OrderState.VOIDED,
    (OrderState.PRINTING, OrderEvent.PRINTED): OrderState.PRINTED,
    (OrderState.PRINTING, OrderEvent.VOID): OrderState.VOIDED,
    (OrderState.PRINTED, OrderEvent.SETTLE): OrderState.SETTLED,
    (OrderState.VOIDED, OrderEvent.REFUNDED): OrderState.REFUNDED,
}
# where an event leads, to recognise a repeated one
_LEADS_TO = {event: {target for (_, e), target in TRANSITIONS.items() if e is event} for event in OrderEvent}
_AFTER = {
    OrderState.VOIDED: {OrderState.REFUNDED},
    OrderState.PRINTING: {OrderState.PRINTED, OrderState.SETTLED},
    OrderState.PRINTED: {OrderState.SETTLED},
}
OPEN = (OrderState.REQUESTED, OrderState.ISSUED)  # a deadline voids these (never a printing one)
FINAL = (OrderState.SETTLED, OrderState.REFUNDED)


def next_state(state: OrderState, event: OrderEvent) -> OrderState | None:
    """The state ``event`` leads to from ``state``; ``None``: the event happened already (the
    order is where it leads, or past it); :class:`~center.errors.Conflict` when it cannot
    happen."""
    target = TRANSITIONS.get((state, event))
    if target is not None:
        return target
    for reached in _LEADS_TO[event]:
        if state is reached or state in _AFTER.get(reached, ()):
            return None
    raise Conflict(
        "order_state", f"an order {state.value} cannot be {event.value}", details={"state": state.value}
    )


class HandAction(StrEnum):
    """What a person at the center may do to an order its terminal cannot end (人手による処理)."""

    VOID = "void"  # 取消と返金: voided, and the refund recorded (the store gave back the coins)
    SETTLE = "settle"  # 精算: settled after the store's cash count
    REFUND = "refund"  # 返金の記録: a voided order's refund recorded


BY_HAND: dict[HandAction, tuple[OrderEvent, ...]] = {
    HandAction.VOID: (OrderEvent.VOID, OrderEvent.REFUNDED),
    HandAction.SETTLE: (OrderEvent.SETTLE,),
    HandAction.REFUND: (OrderEvent.REFUNDED,),
}


#: the states a person may start an action from, where narrower than the table's: a void by hand
#: is a deadline's void (never of an order whose paper may be out), with its refund
HAND_FROM: dict[HandAction, tuple[OrderState, ...]] = {HandAction.VOID: OPEN}


def by_hand(state: OrderState, action: HandAction) -> OrderState | None:
    """Where ``action`` takes an order in ``state``: each of its events in turn along
    :data:`TRANSITIONS`, from the states :data:`HAND_FROM` allows; ``None`` if one of them does
    not apply (nothing changes then)."""
    if state not in HAND_FROM.get(action, tuple(OrderState)):
        return None
    for event in BY_HAND[action]:
        target = TRANSITIONS.get((state, event))
        if target is None:
            return None
        state = target
    return state


def hand_actions(state: OrderState) -> tuple[HandAction, ...]:
    """What a person may do to an order in ``state``."""
    return tuple(action for action in HandAction if by_hand(state, action) is not None)
