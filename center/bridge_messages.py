"""What a municipal issuance server answers the center (市区町村サーバの応答), shared by both ends:
the server writes it (``center/municipal/http.py``), the center's client reads it
(``center/municipal_client.py``). The wire form is these fields, in this order, as JSON.

Only the issuance answer has a message here: the offer is relayed to the terminal as the
municipality's JSON (it has no model yet), and the answers of ``/printed`` and ``/void`` are
read for their status alone.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from pydantic.dataclasses import dataclass


@dataclass(frozen=True)
class IssuedCopy:
    """One copy issued (交付): where it belongs, what it costs, and the copy itself, sealed."""

    item: int  # index of the request's item
    copy: int  # 1…copies
    issue_number: str
    pages: int
    fee: int  # yen
    content_hash: str
    code_hash: str  # of the verification code printed on the copy (documents.code_digest)
    sealed: str  # base64url of the copy sealed to the terminal: the center relays it unread


@dataclass(frozen=True)
class IssueAnswer:
    """The answer to ``POST /v1/issue``: the order's copies, the same each time it is asked."""

    order_id: str
    fee: int  # yen, all copies together
    copies: tuple[IssuedCopy, ...]

    @classmethod
    def from_json(cls, body: Any) -> IssueAnswer:
        """``body`` (parsed JSON) read into the answer (``pydantic.ValidationError`` if it is not one)."""
        return _ISSUE_ANSWER.validate_python(body)

    def to_json(self) -> dict[str, Any]:
        """The answer as JSON values, its fields in the wire's order."""
        body: dict[str, Any] = _ISSUE_ANSWER.dump_python(self, mode="json")
        return body


_ISSUE_ANSWER = TypeAdapter(IssueAnswer)
