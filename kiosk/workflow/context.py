"""What one resident's session holds while it lasts (the workflow's shared context), and its wiping.

Everything here is about one person and lives only in memory, only for the session: the
certificate read from the card, the center's session, what the municipality offers (household
members by name), the chosen certificates, the order and its opened documents. The PIN is never
here: it goes from the keypad into a :class:`hardware.card.pin.PinBuffer` and to the card only.
:meth:`SessionContext.wipe` runs after every end (done, cancelled, failed, a crash on restart):
binary values are zeroed in place, everything else is dropped, so the kiosk keeps nothing
personal between residents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.workflow.steps import Step


@dataclass
class Chosen:
    """One certificate in the basket: its type, options and copies."""

    certificate_type: str
    options: dict[str, Any] = field(default_factory=dict)
    copies: int = 1


@dataclass
class SessionContext:
    language: str = "ja"
    whose: str = "residence"  # residence (住所地) or registered domicile (本籍地)
    certificate: bytearray = field(default_factory=bytearray)  # the card's user-auth certificate (DER)
    tries_left: int | None = None
    session_id: str | None = None
    municipality: str | None = None
    offers: dict[str, Any] = field(default_factory=dict)  # what can be issued now, and why not
    choosing: Chosen | None = None  # the certificate being chosen
    basket: list[Chosen] = field(default_factory=list)
    order_id: str | None = None
    order_stage: str | None = None  # placed, printed, settled (the journal's stages and the last)
    fee: int | None = None
    documents: list[Any] = field(default_factory=list)  # opened, checked, to print
    paid: int = 0  # yen in escrow
    refusal: dict[str, str] | None = None  # what to show: code, words in each language
    ended: Step | None = None
    reason: str | None = None  # why it ended (a code, never personal)
    # the session's objects: the card in the reader (HolderAuthentication) and the business with
    # the center (KioskSession); both hold personal data and go with the rest at the wipe
    card: Any = None
    link: Any = None

    def wipe(self) -> None:
        """Forget the session: zero what can be zeroed, drop the rest."""
        if self.link is not None:
            self.link.forget()
        self.certificate[:] = bytes(len(self.certificate))
        fresh = SessionContext()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))

    @property
    def personal(self) -> bool:
        """Whether anything about a person is held (false right after :meth:`wipe`)."""
        return bool(self.certificate or self.session_id or self.offers or self.basket or self.order_id
                    or self.documents or self.choosing or self.refusal
                    or self.card is not None or self.link is not None)
