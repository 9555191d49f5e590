"""What the workflow's steps need from the world, as ports (no device, no screen, no Kivy here).

- :class:`Screen` — the resident's side: what a step shows (a *view*: message keys and values,
  never finished sentences) and the touches that come back. The Kivy app and the headless
  driver of the tests and load runs are its two implementations.
- :class:`CardSlot` — the card reader's slot: a card placed, a card taken away.
- :class:`Cashbox` — the coin mechanism with its escrow (預り金): coins are held until the
  documents are printed, then accepted into the cash box, or all given back.
- :class:`Printer` — prints the checked documents (or a plain page, such as the issuance record)
  and says when they have been taken.
- :class:`Reminder` — the terminal's light and buzzer: "take your card", "take your documents".
- :class:`HolderCard` — the resident's card once read: it proves its holder with the PIN, and
  signs an application with the signing password.
- :class:`CenterLink` — one resident's business with the center.

Each device has an in-process stand-in in :mod:`kiosk.devices.stand_ins`; the peripheral
controller (coins, tray light, buzzer) and the real printer come with their own drivers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from PIL import Image

from documents import Binding, OpenedDocument
from hardware.card.holder import HolderProof
from hardware.card.pin import PinBuffer
from hardware.card.signing import SignedMessage
from hardware.card.transport import CardConnection
from hardware.printer import PrinterCondition
from kiosk.issuance_record import IssuanceRecordView
from kiosk.journal import JournalEntry, OrderJournal
from kiosk.municipalities import ParticipatingMunicipalities
from kiosk.offer import Offer
from kiosk.order import Ordered
from kiosk.registration import RegistrationView, Source
from kiosk.workflow.steps import Step


class ShownSession(Protocol):
    """What a screen reads of the session it shows (the session's context is one)."""

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class Touch:
    """One touch on a screen: the step it was made on, what was touched and its value.

    A PIN digit travels as a small ``int`` (``Touch(Step.PIN, "digit", 7)``) straight into the
    step's :class:`~hardware.card.pin.PinBuffer`; it is never joined into a string.
    """

    step: Step
    action: str
    value: Any = None


class Touches:
    """The touches waiting for the screen shown now, for the implementations of :class:`Screen`:
    a touch is taken only by the step it was made on, and those left when a screen goes away
    are dropped."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Touch] = asyncio.Queue()

    def put(self, touch: Touch) -> None:
        self._queue.put_nowait(touch)

    async def next(self, step: Step) -> Touch:
        while True:
            touch = await self._queue.get()
            if touch.step is step:
                return touch

    def drop(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()


class Screen(Protocol):
    """The resident's side of the terminal."""

    def show(self, step: Step, view: Mapping[str, Any]) -> None:
        """Update what ``step``'s screen shows: the items of ``view`` replace those of the same
        name; the others stay (a new screen starts from an empty view)."""

    async def touch(self, step: Step) -> Touch:
        """The next touch made on ``step``'s screen (touches on other screens are dropped)."""

    async def approve(self, current: Step, following: Step, context: ShownSession) -> None:
        """The workflow moves from ``current`` to ``following``: the next screen is shown."""

    def forget(self) -> None:
        """The session is over: every view is dropped, nothing of it stays on any screen."""

    def warn(self, step: Step, seconds: float | None) -> None:
        """``step``'s screen times out in ``seconds`` unless the resident does something (a banner
        with ``timeout.warning``); ``None`` takes the warning away."""


class CardSlot(Protocol):
    """The slot or field of the card reader (カード置き場)."""

    async def wait_for_card(self) -> CardConnection:
        """Until a card is there; the connection to it. A card already there is returned at once:
        the steps ask whether one lies there (:meth:`present`) before they wait, and a card left
        from before is not used (it must be taken and placed again)."""

    async def wait_for_removal(self) -> None:
        """Until no card is there."""

    def present(self) -> bool:
        """Whether a card is there now."""

    def attached(self) -> bool:
        """Whether the reader itself is there (for the heartbeat; from any thread)."""


class Cashbox(Protocol):
    """The coin mechanism: payment into escrow, then accepted or returned (硬貨投入口)."""

    def open(self, fee: int) -> None:
        """Take coins for ``fee`` yen into escrow (before this, coins are refused)."""

    async def wait_for_coins(self) -> int:
        """Until the amount in escrow changes; the yen in escrow."""

    @property
    def held(self) -> int:
        """Yen in escrow now."""

    async def accept(self, amount: int) -> int:
        """Move ``amount`` yen (the fees of the copies printed: at most the fee paid for, more
        than 0) into the cash box, give back the rest as change; the change in yen. Raises
        :class:`kiosk.errors.PaymentError` when the coin mechanism cannot."""

    async def return_all(self) -> int:
        """Give back every coin in escrow and stop taking coins; the yen returned. Never raises: a
        coin mechanism that cannot be reached gives the coins back by itself."""


class Printer(Protocol):
    """The store's printer, as the kiosk uses it (プリンター)."""

    async def print(self, documents: Sequence[OpenedDocument], expected: Binding) -> int:
        """Print every page of ``documents`` (one job), each checked again against ``expected``
        (this session's order) before it is rendered; the number of pages. Raises
        :class:`kiosk.errors.PrinterError` with the pages that came out when the job cannot be
        finished, or was stopped."""

    async def print_plain(self, pages: Sequence[Image.Image]) -> int:
        """Print ``pages`` as they are (one job): a plain page that is no certificate, such as the
        resident's issuance record (交付履歴, :mod:`printing.render.issuance_record`), free of
        charge and outside any order; the number of pages. The pages stay the caller's (not
        closed). Fails as :meth:`print` does (:class:`kiosk.errors.PrinterError` with the pages that
        came out); ``nothing_to_print`` for no page."""

    def stop(self) -> None:
        """Stop the job being printed (a door or tamper alarm): :meth:`print` then raises
        :class:`kiosk.errors.PrinterError` (``stopped``) with the pages that came out."""

    async def wait_until_taken(self) -> None:
        """Until the printed pages have been taken from the output tray."""

    def condition(self) -> PrinterCondition:
        """The printer's condition now (for the heartbeat; from any thread, may block a moment)."""


class Guard(Protocol):
    """The maintenance door and the tamper switch (保守扉・筐体開放検知): an alarm latched until staff
    clear it. While one is latched the terminal is out of service."""

    @property
    def alarm(self) -> str | None:
        """The latched alarm's causes (``door``, ``tamper``), or ``None``."""

    async def wait_for_alarm(self) -> str:
        """Until an alarm is latched (at once if one is); its causes."""

    async def wait_until_cleared(self) -> None:
        """Until staff have cleared the alarm."""


class Maintenance(Protocol):
    """The peripheral controller's maintenance mode (保守モード), for store staff: the door may be
    opened without an alarm, and a latched alarm can be cleared."""

    def enter(self) -> None: ...

    def leave(self) -> None: ...

    async def clear_alarm(self) -> None:
        """Clear the latched alarm; :class:`kiosk.errors.DeviceError` when the board refuses (the
        tamper switch still tripped, the board not answering)."""

    def status(self) -> dict[str, object]:
        """What staff see: ``alarm`` (causes or ``None``), ``door_open``, ``connected``, ``owed``
        (yen of change the hoppers could not pay)."""


class ReminderKind(StrEnum):
    TAKE_CARD = "take_card"
    TAKE_DOCUMENTS = "take_documents"


class Reminder(Protocol):
    """The light at the card tray and the buzzer (取り忘れ防止)."""

    def start(self, kind: ReminderKind) -> None:
        """Blink and sound, repeating until :meth:`stop`."""

    def stop(self) -> None: ...


class HolderCard(Protocol):
    """The resident's card on the reader, once read (:class:`kiosk.card.ResidentCard`)."""

    def prove(self, pin: PinBuffer, challenge: bytes) -> HolderProof:
        """VERIFY ``pin``, then sign ``challenge``; :class:`kiosk.errors.WrongPin`,
        :class:`~kiosk.errors.PinLocked` or :class:`~kiosk.errors.CardRemoved` when it cannot."""

    def holder_certificate(self) -> bytes | None:
        """The user-authentication certificate (DER) read when it was placed (``None``: not
        readable before the PIN), to tell the session holder's card from another."""

    def signing_tries_left(self) -> int:
        """The signing password's tries left (none spent): :class:`~kiosk.errors.NoSigningCertificate`
        or :class:`~kiosk.errors.CardRemoved` when it cannot say."""

    def sign(self, password: PinBuffer, message: bytes) -> SignedMessage:
        """VERIFY the signing ``password``, then sign ``message`` with the signing key (an
        application); as :meth:`prove`, and :class:`~kiosk.errors.NoSigningCertificate`."""

    def finish(self) -> None:
        """Log the card out (quiet if it is gone)."""


class CenterLink(Protocol):
    """One resident's business with the center (:class:`kiosk.center_link.KioskSession`): a
    refusal is raised as :class:`kiosk.errors.Refused`, with its code and words."""

    session_id: str | None  # the center's session, once opened
    order: Ordered | None  # this session's order, once placed (or voided by a refusal)

    def open(self) -> None:
        """The center session, before the PIN is typed (a closed service is refused here)."""

    def authenticate(self, card: HolderCard, pin: PinBuffer) -> Offer:
        """The card proves its holder over the session; what the resident can choose."""

    def place(self, items: Sequence[Mapping[str, object]], *, printer: int) -> Ordered:
        """Order ``items``; every copy opened and checked against this session."""

    def binding(self) -> Binding:
        """What every copy of this session's order is bound to."""

    def printing(self) -> None:
        """The job goes to the printer now: no deadline voids the order from here on."""

    def printed(self, issue_numbers: Sequence[str]) -> None:
        """These copies came out whole; the order's others are void."""

    def settle(self, paid: int) -> None:
        """``paid`` yen (the fees of the copies printed) went into the cash box."""

    def void(self, reason: str) -> None:
        """Cancel the order not printed, if there is one."""

    def refunded(self) -> None:
        """The order's payment was given back, if there is an order."""

    def forget(self) -> None:
        """The session is over: nothing of it is kept."""

    def recover(self, journal: OrderJournal, reason: str = ...) -> JournalEntry | None:
        """Tell the center how the order in ``journal`` ended (:mod:`kiosk.recovery`); the entry
        if it was ended (``None``: nothing open, or it stays to be told later)."""

    def report_alarm(self, causes: str, state: str) -> None:
        """Tell the center the door or tamper alarm, or wrong staff codes in a row (``staff_code``), was
        ``raised`` or ``cleared``."""

    # the registered domicile (本籍地) and the issuance record (交付履歴), after the PIN
    def registration(self) -> RegistrationView | None:
        """The holder's usage registration at a domicile municipality, opened (``None``: none)."""

    def participating_municipalities(self) -> ParticipatingMunicipalities:
        """The municipalities a resident can apply to, each with its verified sealing key."""

    def apply_for_registration(
        self, card: HolderCard, password: PinBuffer, municipality: str, domicile: str, head: str
    ) -> RegistrationView:
        """The application signed by the card with its signing password, sealed to ``municipality``
        and sent; the municipality's answer, opened. :class:`kiosk.errors.WrongPin` (tries left),
        :class:`~kiosk.errors.PinLocked`, :class:`~kiosk.errors.CardRemoved` from the card."""

    def offer(self, source: Source = ...) -> Offer:
        """What the resident can choose from ``source`` (``domicile``: the registered domicile's
        municipality); orders of this session then go there."""

    def issuance_record(self) -> IssuanceRecordView:
        """Every issuance made with the holder's card in the last 12 months, opened and merged."""
