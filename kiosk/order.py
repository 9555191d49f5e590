"""An order placed in this session (注文): its id, its fee, and its copies, each opened and
checked against the session's binding before it may be printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from documents import OpenedDocument


@dataclass
class Ordered:
    order_id: str
    fee: int
    copies: list[OpenedDocument] = field(default_factory=list)

    @property
    def issue_numbers(self) -> list[str]:
        return [copy.document.issue_number.text for copy in self.copies]
