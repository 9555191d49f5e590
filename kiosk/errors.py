"""The kiosk's one error hierarchy (端末のエラー): what the workflow's steps meet.

The adapters raise these instead of their layers' own errors, with the facts a step needs:
:class:`kiosk.center_link.KioskSession` for the center (:class:`Refused`, with the code and the
words to show), :class:`kiosk.card.ResidentCard` for the resident's card (a card that cannot be
read, a wrong PIN with the tries left, a card taken away), the device drivers for the terminal's
devices (:class:`DeviceError`). The steps catch only these.

A step that does not handle an error answers ``error``: the session fails cleanly (the order is
voided, the coins come back, the session is wiped). A fault no step handles (the center out of
reach, a session the center no longer knows, a card that breaks the protocol) is not translated:
the controller fails the session on any exception and names it by its type
(:func:`kiosk.workflow.controller.failure_code`). Messages carry codes and types, never a
person's data.

::

    KioskError
    ├── DeviceError          the terminal's printer, coin mechanism, door and tamper switch
    │   ├── PrinterError
    │   ├── PaymentError
    │   └── TerminalAlarm
    ├── CardProblem          the resident's card
    │   ├── CardUnreadable
    │   │   └── NotMyNumberCard
    │   ├── WrongPin         (tries_left; the PIN, or the signing password)
    │   │   └── PinLocked
    │   ├── CardRemoved
    │   ├── NoSigningCertificate
    │   └── OtherCard        not the card that proved the session's holder
    ├── Refused              the center or the municipality said no (refusal, order_id)
    └── EnrolmentError       the terminal's enrolment cannot be made or installed (code)
"""

from __future__ import annotations

from dataclasses import dataclass


class KioskError(Exception):
    """What a step of the kiosk meets; one it does not handle fails the session (voiding and
    refunding)."""


class DeviceError(KioskError):
    """A device of the terminal failed (printer, coin mechanism, card reader)."""


class PrinterError(DeviceError):
    """The printer could not finish the job (paper out, jam, offline, timeout, or the job was
    stopped): ``pages_done`` pages of it came out before."""

    def __init__(self, message: str, *, pages_done: int = 0) -> None:
        super().__init__(message)
        self.pages_done = pages_done


class PaymentError(DeviceError):
    """The coin mechanism failed (coins it holds are returned by the end of the session)."""


class FeeMismatch(KioskError):
    """The center ordered another fee than the one the resident paid into escrow (a fee changed
    between the offer and the order, or a center that is wrong): nothing is printed, the order
    is voided and every coin given back."""

    def __init__(self, ordered: int, collected: int) -> None:
        super().__init__(f"the center's fee is {ordered} yen, {collected} yen were collected")
        self.ordered = ordered
        self.collected = collected


class TerminalAlarm(DeviceError):
    """The maintenance door opened outside maintenance mode, or the tamper switch tripped: the
    session ends at once and the terminal is out of service until staff clear the alarm."""

    def __init__(self, causes: str) -> None:
        super().__init__(f"terminal alarm: {causes}")
        self.causes = causes


class CardProblem(KioskError):
    """The resident's card could not do its part (カードの問題); the message names the card layer's
    error, never anything read from the card."""


class CardUnreadable(CardProblem):
    """The card placed cannot be read (moved during reading, a broken card): the resident takes
    it and tries again."""


class NotMyNumberCard(CardUnreadable):
    """The card placed has no JPKI application: not a My Number Card."""


class WrongPin(CardProblem):
    """The card refused the PIN (暗証番号の誤り); ``tries_left`` before it locks (0: locked now)."""

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN, {tries_left} tries left")
        self.tries_left = tries_left


class PinLocked(WrongPin):
    """The card's PIN is locked (only the municipal office unlocks it)."""

    def __init__(self) -> None:
        super().__init__(0)


class CardRemoved(CardProblem):
    """The card was taken away, or stopped answering, while it was being used."""


class NoSigningCertificate(CardProblem):
    """The card holds no signing certificate (署名用電子証明書: not issued under 15, or not
    chosen): it cannot sign an application; the municipal office issues one."""


class OtherCard(CardProblem):
    """The card placed to sign is not the one that proved the session's holder (its
    user-authentication certificate differs): nothing is signed."""


@dataclass(frozen=True)
class Refusal:
    """What the screen says of a refusal (拒否): its code (the catalogs have words and what to do
    next for each known code) and the words the center sent (``en`` always, ``ja`` when it sent
    them): shown for the center's own closures (the calendar's, an operator's stop) and for a code
    the kiosk does not know yet (``kiosk.ui.words``)."""

    code: str
    en: str
    ja: str | None = None

    def view(self) -> dict[str, str]:
        """As a screen's view takes it: ``{"code", "en"[, "ja"]}``."""
        return {"code": self.code, "en": self.en, **({"ja": self.ja} if self.ja else {})}


class Refused(KioskError):
    """The center or the municipality refused (a closed service, a revoked card, a certificate it
    cannot issue): the resident is told why. ``order_id``: the order the refusal voided, whose
    payment is still to be reported refunded."""

    def __init__(self, refusal: Refusal, *, order_id: str | None = None) -> None:
        super().__init__(f"refused: {refusal.code}")
        self.refusal = refusal
        self.order_id = order_id

    @property
    def code(self) -> str:
        return self.refusal.code


class EnrolmentError(KioskError):
    """The terminal's enrolment (端末登録) cannot be made or installed, as ``code`` says: a key is
    there already (``key_exists``), no key was made (``no_key``), the bundle is not one
    (``bad_bundle``), or it certifies another key or names another terminal (``key_mismatch``,
    ``other_terminal``). Nothing is installed then."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
