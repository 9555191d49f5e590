"""What the center keeps of an order once it has ended (保存期間): nothing that identifies its holder.

While an order can still change (requested or issued) the center may have to ask the municipality
again with the very same request, so it keeps that request whole: the card's proof (its
certificate, its signature, the authority's revocation answer), the terminal's certificate.
Once the order is final (settled or refunded, :data:`center.order_states.FINAL`) nothing asks
again, so the request is cut down in the same statement that makes the order final: what was
ordered (the certificate types and copies), never who for, nor the options that name household
members or tax years. The card's
session forgets its holder on its own clock (:func:`center.orders.forget_holders`, ten minutes
after the card's proof); the audit log only ever had the serial's keyed hash (``subject``).

What is kept is an allow-list, not a list of fields to drop: a field the request grows later is
dropped until someone decides the center needs it for good.
"""

from __future__ import annotations

import json
from typing import Any

KEPT_FIELDS = ("order_id", "session_id", "terminal_id", "store", "printer")
KEPT_ITEM_FIELDS = ("certificate_type", "copies")


def kept_request(municipal_request: str) -> str:
    """The part of an order's municipal request (JSON) the center keeps once the order is final."""
    try:
        request: Any = json.loads(municipal_request)
    except ValueError:
        request = {}
    if not isinstance(request, dict):
        request = {}
    kept: dict[str, Any] = {name: request[name] for name in KEPT_FIELDS if name in request}
    items = request.get("items")
    kept["items"] = [
        {name: item[name] for name in KEPT_ITEM_FIELDS if name in item}
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]
    kept["retained"] = "final"  # cut down: the holder and the options are gone
    return json.dumps(kept, ensure_ascii=False)
