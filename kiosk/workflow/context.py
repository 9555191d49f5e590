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
from typing import Literal

from documents import OpenedDocument
from kiosk.errors import Refusal
from kiosk.issuance_record import IssuanceRecordView
from kiosk.municipalities import ParticipatingMunicipalities
from kiosk.offer import Offer
from kiosk.ports import CenterLink, HolderCard
from kiosk.registration import RegistrationView
from kiosk.workflow.steps import Step

# a chosen option's value: members (ids), a flag, a tax kind or year, a family register's scope
OptionValue = bool | int | str | list[int] | None
CertificateOptions = dict[str, OptionValue]
# how far the order got: the journal's stages (placed, printing, printed, paid); refused: voided by
# the municipality, its refund not yet reported
OrderStage = Literal["placed", "printing", "printed", "paid", "refused"]
UNPAID: tuple[OrderStage, ...] = ("placed", "printing", "printed", "refused")  # the end voids, refunds


@dataclass
class Chosen:
    """One certificate in the basket: its type, options and copies."""

    certificate_type: str
    options: CertificateOptions = field(default_factory=dict)
    copies: int = 1

    def item(self) -> dict[str, object]:
        """As the center takes it in an order."""
        return {"certificate_type": self.certificate_type, "copies": self.copies, "options": self.options}


@dataclass
class Application:
    """The usage registration being applied for (利用登録申請): the domicile municipality chosen,
    then the 本籍 and the 筆頭者 as the resident typed them."""

    prefecture: str | None = None  # JIS X 0401 code
    municipality: str | None = None  # 6-digit code
    domicile: str = ""  # 本籍
    head: str = ""  # 筆頭者

    def __repr__(self) -> str:  # what was typed never reaches a log through repr
        return f"Application(municipality={self.municipality!r}, {len(self.domicile)}+{len(self.head)} chars)"


@dataclass
class SessionContext:
    language: str = "ja"
    whose: str = "residence"  # residence (住所地) or registered domicile (本籍地)
    certificate: bytearray = field(default_factory=bytearray)  # the card's user-auth certificate (DER)
    tries_left: int | None = None
    session_id: str | None = None
    municipality: str | None = None
    offers: Offer | None = None  # what can be issued now, and why not
    choosing: Chosen | None = None  # the certificate being chosen
    basket: list[Chosen] = field(default_factory=list)
    order_id: str | None = None
    order_stage: OrderStage | None = None
    fee: int | None = None
    documents: list[OpenedDocument] = field(default_factory=list)  # opened, checked, to print
    paid: int = 0  # yen in escrow
    spoiled: int = 0  # copies of the order void because the printer stopped before they were out whole
    refund: int = 0  # yen given back after printing (the fees of the void copies, and the change)
    refusal: Refusal | None = None  # what to show: its code, the center's words
    # the registered domicile (本籍地): its registration once asked (``registration_asked``; None:
    # none), the application being made, the municipalities one may apply to
    registration: RegistrationView | None = None
    registration_asked: bool = False
    applied: bool = False  # the registration shown is the answer to an application made now
    application: Application | None = None
    municipalities: ParticipatingMunicipalities | None = None
    issuance_record: IssuanceRecordView | None = None  # 交付履歴, opened: shown, printed, wiped
    ended: Step | None = None
    reason: str | None = None  # why it ended (a code, never personal)
    # the session's objects: the card in the reader and the business with the center; both hold
    # personal data and go with the rest at the wipe
    card: HolderCard | None = None
    link: CenterLink | None = None

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
        return bool(
            self.certificate
            or self.session_id
            or self.offers is not None
            or self.basket
            or self.order_id
            or self.documents
            or self.choosing
            or self.refusal is not None
            or self.card is not None
            or self.link is not None
            or self.registration is not None
            or self.application is not None
            or self.issuance_record is not None
        )
