"""What a municipal issuance server answers the center (市区町村サーバの応答), shared by both ends:
the server writes it (``center/municipal/http.py``), the center's client reads it
(``center/municipal_client.py``). The wire form is these fields, in this order, as JSON.

Only the issuance answer has a message here: the offer is relayed to the terminal as the
municipality's JSON (it has no model yet), and the answers of ``/printed`` and ``/void`` are
read for their status alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from pydantic.dataclasses import dataclass

from center.signing import SEALED_CHARS

#: unpadded base64url of at most a sealed copy's size (a length no encoding makes is refused too)
SEALED_TEXT = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$"


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
    # unpadded base64url of the copy sealed to the terminal: the center relays it unread
    sealed: Annotated[str, Field(pattern=SEALED_TEXT, min_length=2, max_length=SEALED_CHARS)]


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
