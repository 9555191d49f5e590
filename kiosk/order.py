"""An order placed in this session (注文): its id, its fee, and its copies, each opened and
checked against the session's binding before it may be printed; and what came out of the
printer, copy by copy (:class:`PrintOutcome`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from documents import OpenedDocument


@dataclass(frozen=True)
class PrintOutcome:
    """Copy by copy, what one print job gave: the copies that came out whole are printed and
    paid for; a copy that stopped part way (``spoiled``) or never started (``unprinted``) is
    void at its municipality and its fee goes back."""

    printed: tuple[str, ...]  # issue numbers, in the job's order
    spoiled: tuple[str, ...]
    unprinted: tuple[str, ...]
    due: int  # yen: the fees of the copies printed

    @property
    def whole(self) -> bool:
        return not self.spoiled and not self.unprinted


@dataclass
class Ordered:
    order_id: str
    fee: int
    copies: list[OpenedDocument] = field(default_factory=list)
    fees: dict[str, int] = field(default_factory=dict)  # issue number → the copy's fee

    @property
    def issue_numbers(self) -> list[str]:
        return [copy.document.issue_number.text for copy in self.copies]

    def outcome(self, pages_done: int) -> PrintOutcome:
        """What a job that put out ``pages_done`` pages (all copies' pages, in order) printed."""
        printed: list[str] = []
        spoiled: list[str] = []
        unprinted: list[str] = []
        first = 0  # the copy's first page in the job
        for copy in self.copies:
            number, pages = copy.document.issue_number.text, copy.document.pages
            if pages_done >= first + pages:
                printed.append(number)
            elif pages_done > first:
                spoiled.append(number)
            else:
                unprinted.append(number)
            first += pages
        due = sum(self.fees.get(number, 0) for number in printed)
        return PrintOutcome(tuple(printed), tuple(spoiled), tuple(unprinted), due)
