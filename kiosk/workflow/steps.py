"""The resident's session at the kiosk as one transition table (利用者の操作の流れ).

    idle → language → place card → whose certificates (residence / registered domicile) → PIN
         → take the card back [→ registration (registered domicile)] → certificate type
         [→ issuance record] → options → copies → confirm content and fee → payment → printing
         → take the documents → done

Every step ends with an :class:`Outcome`; the table says where each outcome of each step leads.
Three outcomes exist at every step but the ends and are added to the table once, here, not
written at each step: ``cancel`` (the resident pressed cancel; not while the documents are
printing or waiting in the tray), ``timeout`` (the resident walked away, or the session's limit
was reached) → *cancelled*, and ``error`` (a device or the center failed) → *failed*. The end
screens void an order not on paper and give back the coins held. Going back is explicit where
it makes sense (``back``).

The card is needed only until its signature: after the PIN step the kiosk asks for it back and
waits until it is gone (``take_card``), before anything else is chosen.

The registered domicile (本籍地): a resident who chose it at ``whose`` is asked, once the card is
back, for their usage registration (利用登録, ``registration``): approved, the domicile
municipality's certificates are chosen as usual; pending (申請中), denied (不承認) or suspended, it is
said and the session is done (a denied one may apply again); none, they may apply (利用登録申請):

    registration → prefecture → municipality → 本籍 (domicile_entry) → 筆頭者 (head_entry)
                 → the application confirmed (application) → the card again and its signing
                   password (signing) → registration (the answer: 申請中, or 不承認 with why)

A resident whose residence municipality keeps their register itself goes on as a resident does.
At the certificate type a resident may look at every issuance made with their card
(交付履歴の確認, ``issuance_record``), print it free of charge, and go back to the choice.

Store staff reach the maintenance mode (``maintenance``) from the start screen with their code;
it is no resident's session, and however it ends the start screen follows.

A card left in the reader after a session (カードの置き忘れ) is nobody's card: the start screen that
finds one goes to ``left_card``, which reminds until the card is taken and starts no session
meanwhile (staff may still reach the maintenance mode from it). A card lying in the reader when a
session reaches ``place_card`` is not read either: it is asked to be taken and placed again.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    IDLE = "idle"
    LANGUAGE = "language"
    PLACE_CARD = "place_card"
    WHOSE = "whose"  # 住所地 or 本籍地
    PIN = "pin"
    TAKE_CARD = "take_card"
    CERTIFICATE_TYPE = "certificate_type"
    OPTIONS = "options"
    COPIES = "copies"
    CONFIRM = "confirm"
    PAYMENT = "payment"
    PRINTING = "printing"
    TAKE_DOCUMENTS = "take_documents"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    MAINTENANCE = "maintenance"  # 保守モード: store staff, from the start screen
    LEFT_CARD = "left_card"  # カードの置き忘れ: a card left after a session, before any new one
    REGISTRATION = "registration"  # 本籍地の利用登録: its status, or the offer to apply
    PREFECTURE = "prefecture"  # the application: the domicile's prefecture (都道府県)
    MUNICIPALITY = "municipality"  # … its municipality (市区町村), a participating one
    DOMICILE_ENTRY = "domicile_entry"  # … the 本籍, typed on the kana keyboard
    HEAD_ENTRY = "head_entry"  # … the 筆頭者, typed on the kana keyboard
    APPLICATION = "application"  # … what was typed, confirmed
    SIGNING = "signing"  # … the card placed again, its signing password (署名用パスワード)
    ISSUANCE_RECORD = "issuance_record"  # 交付履歴の確認: every issuance made with the card


class Outcome(StrEnum):
    NEXT = "next"
    BACK = "back"
    ANOTHER = "another"  # confirm: order one more certificate in the same session
    NO_OPTIONS = "no_options"  # the certificate type chosen has none (seal registration)
    REFUSED = "refused"  # the center or municipality refuses: shown, then back to the choice
    LOCKED = "locked"  # the card's PIN is locked: explained, the card is given back
    CANCEL = "cancel"
    TIMEOUT = "timeout"
    ERROR = "error"
    MAINTENANCE = "maintenance"  # the start screen: staff asked for the maintenance mode
    CARD_LEFT = "card_left"  # the start screen: a card lies in the reader, left after a session
    DOMICILE = "domicile"  # the card is back and the registered domicile was chosen: its registration
    APPLY = "apply"  # the resident applies for a usage registration (利用登録申請)
    FINISH = "finish"  # the resident has seen what they came for: the session is done
    RECORD = "record"  # the certificate type: the issuance record (交付履歴) instead


ENDS = frozenset({Step.DONE, Step.CANCELLED, Step.FAILED})

_FLOW: dict[tuple[Step, Outcome], Step] = {
    (Step.IDLE, Outcome.NEXT): Step.LANGUAGE,
    (Step.LANGUAGE, Outcome.NEXT): Step.PLACE_CARD,
    (Step.PLACE_CARD, Outcome.NEXT): Step.WHOSE,
    (Step.PLACE_CARD, Outcome.BACK): Step.LANGUAGE,
    (Step.WHOSE, Outcome.NEXT): Step.PIN,
    (Step.PIN, Outcome.NEXT): Step.TAKE_CARD,
    (Step.PIN, Outcome.BACK): Step.WHOSE,
    (Step.PIN, Outcome.LOCKED): Step.CANCELLED,  # after the explanation; the card comes back first
    (Step.PIN, Outcome.REFUSED): Step.CANCELLED,  # the center refused the card (revoked, closed)
    (Step.TAKE_CARD, Outcome.NEXT): Step.CERTIFICATE_TYPE,
    (Step.TAKE_CARD, Outcome.DOMICILE): Step.REGISTRATION,
    (Step.CERTIFICATE_TYPE, Outcome.NEXT): Step.OPTIONS,
    (Step.CERTIFICATE_TYPE, Outcome.RECORD): Step.ISSUANCE_RECORD,
    (Step.CERTIFICATE_TYPE, Outcome.NO_OPTIONS): Step.COPIES,
    (Step.OPTIONS, Outcome.NEXT): Step.COPIES,
    (Step.OPTIONS, Outcome.BACK): Step.CERTIFICATE_TYPE,
    (Step.COPIES, Outcome.NEXT): Step.CONFIRM,
    (Step.COPIES, Outcome.BACK): Step.CERTIFICATE_TYPE,
    (Step.CONFIRM, Outcome.NEXT): Step.PAYMENT,
    (Step.CONFIRM, Outcome.BACK): Step.COPIES,
    (Step.CONFIRM, Outcome.ANOTHER): Step.CERTIFICATE_TYPE,
    (Step.PAYMENT, Outcome.NEXT): Step.PRINTING,
    (Step.PAYMENT, Outcome.REFUSED): Step.CERTIFICATE_TYPE,  # the municipality refused: coins returned
    (Step.PRINTING, Outcome.NEXT): Step.TAKE_DOCUMENTS,
    (Step.TAKE_DOCUMENTS, Outcome.NEXT): Step.DONE,
    (Step.IDLE, Outcome.MAINTENANCE): Step.MAINTENANCE,
    **{  # the registered domicile (本籍地): its registration, or the application for one
        (Step.REGISTRATION, Outcome.NEXT): Step.CERTIFICATE_TYPE,  # approved (or kept by the residence)
        (Step.REGISTRATION, Outcome.APPLY): Step.PREFECTURE,
        (Step.REGISTRATION, Outcome.FINISH): Step.DONE,  # pending, denied, suspended: said, nothing to buy
        (Step.REGISTRATION, Outcome.REFUSED): Step.CANCELLED,  # the domicile's offer refused (closed)
        (Step.PREFECTURE, Outcome.NEXT): Step.MUNICIPALITY,
        (Step.PREFECTURE, Outcome.BACK): Step.REGISTRATION,
        (Step.MUNICIPALITY, Outcome.NEXT): Step.DOMICILE_ENTRY,
        (Step.MUNICIPALITY, Outcome.BACK): Step.PREFECTURE,
        (Step.DOMICILE_ENTRY, Outcome.NEXT): Step.HEAD_ENTRY,
        (Step.DOMICILE_ENTRY, Outcome.BACK): Step.MUNICIPALITY,
        (Step.HEAD_ENTRY, Outcome.NEXT): Step.APPLICATION,
        (Step.HEAD_ENTRY, Outcome.BACK): Step.DOMICILE_ENTRY,
        (Step.APPLICATION, Outcome.NEXT): Step.SIGNING,
        (Step.APPLICATION, Outcome.BACK): Step.HEAD_ENTRY,
        (Step.SIGNING, Outcome.NEXT): Step.REGISTRATION,  # the answer: 申請中, or 不承認 with why
        (Step.SIGNING, Outcome.BACK): Step.APPLICATION,
        (Step.SIGNING, Outcome.LOCKED): Step.CANCELLED,  # the signing password locked: explained
        (Step.SIGNING, Outcome.REFUSED): Step.CANCELLED,  # the center refused the application
    },
    # the issuance record (交付履歴): printed or not, back to the choice, or done
    (Step.ISSUANCE_RECORD, Outcome.NEXT): Step.CERTIFICATE_TYPE,
    (Step.ISSUANCE_RECORD, Outcome.BACK): Step.CERTIFICATE_TYPE,
    (Step.ISSUANCE_RECORD, Outcome.FINISH): Step.DONE,
}
# the staff's maintenance mode is no resident's session: however it ends, the start screen follows
_MAINTENANCE = {
    (Step.MAINTENANCE, outcome): Step.IDLE
    for outcome in (Outcome.NEXT, Outcome.CANCEL, Outcome.TIMEOUT, Outcome.ERROR)
}
# a card left in the reader is nobody's: no session starts until it is taken; nothing to cancel.
# Taken, or its screen timed out, the start screen follows (and looks again); a fault is shown as one.
_LEFT_CARD = {
    (Step.IDLE, Outcome.CARD_LEFT): Step.LEFT_CARD,
    (Step.LEFT_CARD, Outcome.NEXT): Step.IDLE,
    (Step.LEFT_CARD, Outcome.TIMEOUT): Step.IDLE,
    (Step.LEFT_CARD, Outcome.MAINTENANCE): Step.MAINTENANCE,  # staff see the card there
    (Step.LEFT_CARD, Outcome.ERROR): Step.FAILED,
}
_EVERYWHERE = {Outcome.CANCEL: Step.CANCELLED, Outcome.TIMEOUT: Step.CANCELLED, Outcome.ERROR: Step.FAILED}
# the ends go back to the start screen by themselves (the end screens time out)
_AT_THE_ENDS = {(end, Outcome.NEXT): Step.IDLE for end in ENDS}

# While paper is coming out and waiting in the tray there is nothing left to cancel, and the
# resident's clock stops: the session's limit does not apply. Printing has no screen time at all (the
# job ends by itself, or by a fault: the printer's, a door or tamper alarm, which the step handles
# itself, copy by copy); the tray's screen reminds for its time, then the session is done (the order
# is paid; pages left are the staff's to keep).
NO_CANCEL = frozenset({Step.PRINTING, Step.TAKE_DOCUMENTS})
NO_SESSION_LIMIT = NO_CANCEL
UNTIMED = frozenset({Step.PRINTING})

TRANSITIONS: dict[tuple[Step, Outcome], Step] = {
    **_FLOW,
    **{
        (step, outcome): target
        for step in Step
        if step not in ENDS and step not in (Step.IDLE, Step.MAINTENANCE, Step.LEFT_CARD)
        for outcome, target in _EVERYWHERE.items()
        if not (outcome is Outcome.CANCEL and step in NO_CANCEL)
        and not (outcome is Outcome.TIMEOUT and step in UNTIMED)
    },
    (Step.TAKE_DOCUMENTS, Outcome.TIMEOUT): Step.DONE,
    **_MAINTENANCE,
    **_LEFT_CARD,
    (Step.IDLE, Outcome.ERROR): Step.FAILED,
    **_AT_THE_ENDS,
}


class NoSuchTransition(Exception):
    """A step answered an outcome the table has no line for (a bug in that step)."""


def next_step(step: Step, outcome: Outcome) -> Step:
    try:
        return TRANSITIONS[(step, outcome)]
    except KeyError:
        raise NoSuchTransition(f"{step.value} cannot end with {outcome.value}") from None
