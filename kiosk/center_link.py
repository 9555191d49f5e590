"""The kiosk's side of one resident's business with the center (no UI): open a session, prove the
holder with the card, read what can be issued, order, and check every copy before it is printed.

Everything the kiosk receives about the person arrives sealed to this terminal and is opened
here, against this session's own binding: the offer (household members, years) with
:func:`documents.offer.open_offer`, each copy with :func:`documents.open_sealed`. A copy bound to
another order, session, terminal or card raises, and nothing of it is printed. The PIN goes from
its :class:`~hardware.card.pin.PinBuffer` to the card only (and is wiped there).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from center.client import CenterClient, CenterRefusal
from center.protocol import resident_binding, unb64url
from documents import Binding, OpenedDocument, TrustedKey, open_sealed
from documents.offer import open_offer
from hardware.card.holder import HolderAuthentication
from hardware.card.pin import PinBuffer
from kiosk.errors import KioskError


@dataclass(frozen=True)
class Offered:
    """What the resident can choose now: the public part and the opened personal part."""

    municipality: str
    certificates: dict[str, Any]
    max_copies: int
    personal: dict[str, Any]


@dataclass
class Ordered:
    order_id: str
    fee: int
    copies: list[OpenedDocument] = field(default_factory=list)

    @property
    def issue_numbers(self) -> list[str]:
        return [copy.document.issue_number.text for copy in self.copies]


class KioskSession:
    """One resident's session at this terminal (created per session, dropped at its end)."""

    def __init__(
        self,
        client: CenterClient,
        trust: Mapping[str, TrustedKey],
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client = client
        self.trust = trust
        self.clock = clock
        self.session_id: str | None = None
        self.holder_certificate: str | None = None
        self.order: Ordered | None = None
        self._challenge: bytes | None = None  # the open session's, until the card has signed it

    @property
    def terminal_id(self) -> str:
        return self.client.terminal.terminal_id

    def open(self) -> None:
        """A center session and its challenge for the card, before the PIN is typed: a closed
        service (hours, a suspension) is refused here, as the center's refusal."""
        opened = self.client.open_session()
        self.session_id, self._challenge = opened.session_id, opened.challenge

    def prove(self, card: HolderAuthentication, pin: PinBuffer) -> Offered:
        """The card proves its holder over the open session (one is opened if none is; after a
        wrong PIN its challenge, never signed, serves again): VERIFY with ``pin``, then the
        signature; the center authenticates the resident; the offer, opened. Card errors (a wrong
        PIN, a locked card) and the center's refusals are raised as they are."""
        if self._challenge is None or self.session_id is None:
            self.open()
        assert self._challenge is not None and self.session_id is not None
        session_id = self.session_id
        proof = card.prove(pin, resident_binding(session_id, self.terminal_id, self._challenge))
        self._challenge = None  # signed: the center takes it once
        self.holder_certificate = Binding.holder_hash(proof.certificate.der)
        self.client.authenticate_resident(session_id, proof.certificate.der, proof.signature)
        offered = self.client.offer(session_id)
        personal = open_offer(
            unb64url(offered["sealed"]),
            terminal_id=self.terminal_id,
            terminal_key=self.client.terminal.key,
            trust=self.trust,
            session_id=session_id,
            holder_certificate=self.holder_certificate,
            now=self.clock(),
        )
        return Offered(offered["municipality"], offered["certificates"], offered["max_copies"], personal)

    def place(self, items: list[dict[str, Any]], *, printer: int = 1, key: str | None = None) -> Ordered:
        """Order ``items``; every copy opened and checked against this session before it is
        returned (``KioskError`` and nothing to print otherwise; the order is then voided)."""
        if self.session_id is None or self.holder_certificate is None:
            raise KioskError("no authenticated session")
        try:
            answer = self.client.place_order(
                self.session_id, key or secrets.token_hex(12), items, printer=printer
            )
        except CenterRefusal as refusal:
            refused = refusal.details.get("order_id")
            if isinstance(refused, str):  # voided at the center: the payment is to be refunded
                self.order = Ordered(refused, 0)
            raise
        ordered = Ordered(answer["order_id"], answer["fee"])
        self.order = ordered
        expected = self.binding()
        try:
            for copy in answer["copies"]:
                ordered.copies.append(
                    open_sealed(
                        unb64url(copy["sealed"]),
                        terminal_id=self.terminal_id,
                        terminal_key=self.client.terminal.key,
                        trust=self.trust,
                        expected=expected,
                        now=self.clock(),
                    )
                )
        except Exception as error:
            ordered.copies.clear()
            self.client.void(ordered.order_id, "copy_check_failed")
            raise KioskError(
                f"a copy failed the kiosk's check ({type(error).__name__}); nothing printed"
            ) from error
        return ordered

    def binding(self) -> Binding:
        """What every copy of this session's order must be bound to (checked again at printing)."""
        if self.order is None or self.session_id is None or self.holder_certificate is None:
            raise KioskError("no order in this session")
        return Binding(self.order.order_id, self.session_id, self.terminal_id, self.holder_certificate)

    def printed(self) -> None:
        order = self._order()
        self.client.printed(order.order_id, order.issue_numbers)

    def settle(self) -> None:
        order = self._order()
        self.client.settle(order.order_id, order.fee)

    def void(self, reason: str) -> None:
        """Cancel the order, if there is one not printed (quiet when there is none)."""
        if self.order is not None:
            self.client.void(self.order.order_id, reason)

    def refunded(self) -> None:
        if self.order is not None:
            self.client.refunded(self.order.order_id)

    def forget(self) -> None:
        """The session is over: nothing of it is kept."""
        if self.order is not None:
            self.order.copies.clear()
        self.order = None
        self.session_id = self.holder_certificate = None
        self._challenge = None

    def _order(self) -> Ordered:
        if self.order is None:
            raise KioskError("no order in this session")
        return self.order
