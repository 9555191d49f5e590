"""The registered domicile (本籍地): the resident's usage registration (利用登録), and the application
for one made at the kiosk (利用登録申請).

After the PIN, with the card back, a resident who chose the registered domicile is asked for their
registration (``registration``): approved, the domicile municipality's offer is read and the usual
steps follow; pending (申請中), denied (不承認, with the municipality's words) or suspended, it is
said and the session is done; a denied one, or none, may apply: the prefecture, the municipality
(the participating ones, :mod:`kiosk.municipalities`), the 本籍 and the 筆頭者 typed on the kana
keyboard, the application confirmed, then the card placed again and its signing password
(署名用パスワード): the card signs the application, the kiosk seals it to the municipality, and the
municipality's answer is shown on the registration screen (申請中 with the expected date, or 不承認
with why). A resident whose residence municipality keeps their register itself never comes here
(:func:`kiosk.workflow.states.choice.keeps_register`).

Everything typed stays in the session's context (:class:`~kiosk.workflow.context.Application`)
and goes at its wipe; the signing password goes from the keypad into a
:class:`~hardware.card.pin.PinBuffer` and to the card only.

Views:

- registration: ``{"status": "none" | "pending" | "denied" | "suspended", "municipality":
  {"code", "name", "name_en"} | None, "applied_at": "YYYY-MM-DD" | None, "approves_at": date |
  None, "reason": code | None, "message": {"ja", "en"} | None, "applied": bool, "can_apply":
  bool, "busy": key | None}`` (dates in JST; ``applied``: the answer to an application made now)
  — ``apply`` (none or denied), ``finish``, ``cancel``.
- prefecture: ``{"prefectures": [{"code", "name"}], "chosen": code | None}`` —
  ``Touch("prefecture", "13")``, ``back``, ``cancel``.
- municipality: ``{"prefecture": code, "municipalities": [{"code", "name", "name_en"}], "chosen":
  code | None}`` — ``Touch("municipality", "131016")``, ``back``, ``cancel``.
- domicile_entry, head_entry: ``{"municipality": {...}, "value": text, "most": n, "problem": key |
  None}`` — ``typing`` (a key of the keyboard, for the screen's timeout; nothing typed in it),
  ``Touch("next", text)``, ``back``, ``cancel``.
- application: ``{"municipality": {...}, "domicile": text, "head": text}`` — ``next``, ``back``,
  ``cancel``.
- signing: ``{"card": "place" | "reading" | "ready" | "locked" | "unable", "problem": key | None,
  "entered": n, "least": 6, "most": 16, "tries": n | None, "wrong": bool, "busy": key | None}``
  — the screen shows ``entered`` dots, never the characters. Touches: ``char`` (one of A-Z 0-9),
  ``delete``, ``ok``, ``back``, ``cancel``; on a locked password, ``ok``; on a card without a
  signing certificate (``unable``), ``back`` and ``cancel``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, ClassVar

from documents import JST
from documents.basics import plain_line
from documents.registration import MAX_DOMICILE, MAX_HEAD
from hardware.card.pin import PinBuffer
from kiosk.card import PASSWORD_ALPHABET, PASSWORD_LENGTHS, ResidentCard, password_buffer
from kiosk.errors import (
    CardProblem,
    CardRemoved,
    CardUnreadable,
    NoSigningCertificate,
    OtherCard,
    PinLocked,
    Refused,
    WrongPin,
)
from kiosk.municipalities import ParticipatingMunicipalities
from kiosk.ports import CenterLink, HolderCard
from kiosk.registration import RegistrationView
from kiosk.workflow.context import Application, SessionContext
from kiosk.workflow.states.base import BACK, State, ending, first, unread_problem
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)

LEAST, MOST = PASSWORD_LENGTHS  # the signing password's: 6 to 16
CAN_APPLY = (None, "denied")  # no registration, or a denied one: the resident may apply (again)


def linked(context: SessionContext) -> CenterLink:
    """The session's business with the center (opened at the PIN step, before any of these)."""
    assert context.link is not None
    return context.link


def applying(context: SessionContext) -> Application:
    """The application being made (begun at the registration step)."""
    assert context.application is not None
    return context.application


def jst_date(value: Any) -> str | None:
    """A moment (a datetime, or its ISO text) as its JST date, ``YYYY-MM-DD``; ``None`` for none."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JST).date().isoformat()


def municipality_view(
    code: str | None, municipalities: ParticipatingMunicipalities | None
) -> dict[str, str] | None:
    """A municipality as the views name it: its code and names (the code alone when not known)."""
    if code is None:
        return None
    key = municipalities.sealing_key(code) if municipalities is not None else None
    return {"code": code, "name": key.name if key else code, "name_en": key.name_en if key else code}


def registration_view(shown: RegistrationView | None, applied: bool) -> dict[str, Any]:
    """What the registration screen shows of ``shown`` (``None``: no registration)."""
    if shown is None:
        return {
            "status": "none",
            "municipality": None,
            "applied_at": None,
            "approves_at": None,
            "reason": None,
            "message": None,
            "applied": False,
            "can_apply": True,
        }
    words = {"ja": shown.message_ja, "en": shown.message_en}
    return {
        "status": shown.status,
        "municipality": {"code": shown.municipality, "name": shown.name, "name_en": shown.name_en},
        "applied_at": jst_date(shown.applied_at),
        "approves_at": jst_date(shown.approves_at),
        "reason": shown.reason,
        "message": {language: text for language, text in words.items() if text} or None,
        "applied": applied,
        "can_apply": shown.status in CAN_APPLY,
    }


class Registration(State):
    """The usage registration asked of the center once a session, and said (利用登録の状況); the
    answer to an application made now is said here too."""

    step = Step.REGISTRATION
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        link = linked(context)
        if not context.registration_asked:
            context.registration = await self.center(link.registration)
            context.registration_asked = True
        shown = context.registration
        if shown is not None and shown.status == "approved":
            try:
                offer = await self.center(link.offer, source="domicile")
            except Refused as refused:  # the domicile municipality closed, or stopped issuing
                context.refusal, context.reason = refused.refusal, refused.code
                return Outcome.REFUSED
            context.offers, context.municipality = offer, offer.municipality
            return Outcome.NEXT
        view = registration_view(shown, context.applied)
        self.show(**view, busy=None)
        while True:
            touch = await self.touch("apply", "finish")
            if touch.action == "apply":
                if not view["can_apply"]:
                    continue  # pending or suspended: nothing to apply for
                if context.application is None:
                    context.application = Application()
                context.applied = False
                return Outcome.APPLY
            if touch.action == "finish":
                return Outcome.FINISH
            if touch.action != BACK:  # (no way back from here: the card is given back already)
                return Outcome.CANCEL


class Prefecture(State):
    """The domicile's prefecture (都道府県), of those with a participating municipality."""

    step = Step.PREFECTURE
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        if context.municipalities is None:
            context.municipalities = await self.center(linked(context).participating_municipalities)
        application = applying(context)
        listed = [{"code": p.code, "name": p.name} for p in context.municipalities.prefectures()]
        self.show(prefectures=listed, chosen=application.prefecture, busy=None)
        while True:
            touch = await self.touch("prefecture")
            if (outcome := ending(touch)) is not None:
                return outcome
            if any(item["code"] == touch.value for item in listed):
                if application.prefecture != touch.value:
                    application.municipality = None
                application.prefecture = touch.value
                return Outcome.NEXT


class Municipality(State):
    """The domicile municipality (市区町村), of the participating ones of the prefecture chosen."""

    step = Step.MUNICIPALITY
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        application = applying(context)
        assert context.municipalities is not None and application.prefecture is not None
        listed = [
            {"code": key.municipality, "name": key.name, "name_en": key.name_en}
            for key in context.municipalities.municipalities_of(application.prefecture)
        ]
        self.show(prefecture=application.prefecture, municipalities=listed, chosen=application.municipality)
        while True:
            touch = await self.touch("municipality")
            if (outcome := ending(touch)) is not None:
                return outcome
            if any(item["code"] == touch.value for item in listed):
                application.municipality = touch.value
                return Outcome.NEXT


class TypedEntry(State):
    """A field of the application typed on the kana keyboard (the screen's): ``next`` brings
    what was typed; it is kept when it is 1 to ``most`` characters of one plain line."""

    field: ClassVar[str]  # the Application's attribute
    most: ClassVar[int]
    timeout = 180  # from the last key: typing an address takes a while

    async def run(self, context: SessionContext) -> Outcome:
        application = applying(context)
        municipality = municipality_view(application.municipality, context.municipalities)
        problem: str | None = None
        while True:
            self.show(
                municipality=municipality,
                value=getattr(application, self.field),
                most=self.most,
                problem=problem,
            )
            touch = await self.touch("typing", "next")
            if (outcome := ending(touch)) is not None:
                return outcome
            if touch.action != "next":
                continue  # a key of the keyboard: the resident is there
            text = touch.value.strip() if isinstance(touch.value, str) else ""
            problem = typed_problem(text, self.most)
            if problem is None:
                setattr(application, self.field, text)
                return Outcome.NEXT


def typed_problem(text: str, most: int) -> str | None:
    """Why ``text`` cannot be sent (a catalog key), or ``None``."""
    if not text:
        return "entry.empty"
    if len(text) > most:
        return "entry.too_long"
    if not plain_line(text):
        return "entry.not_plain"
    return None


class DomicileEntry(TypedEntry):
    step = Step.DOMICILE_ENTRY
    field, most = "domicile", MAX_DOMICILE  # characters of a 本籍 (the application's bound)


class HeadEntry(TypedEntry):
    step = Step.HEAD_ENTRY
    field, most = "head", MAX_HEAD  # characters of a 筆頭者


class ApplicationConfirm(State):
    """What was typed, confirmed before the card signs it (申請内容の確認)."""

    step = Step.APPLICATION
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        application = applying(context)
        self.show(
            municipality=municipality_view(application.municipality, context.municipalities),
            domicile=application.domicile,
            head=application.head,
        )
        touch = await self.touch("next")
        return ending(touch) or Outcome.NEXT


class Signing(State):
    """The card placed again and its signing password (署名用パスワード, 6 to 16 of A-Z and 0-9):
    the card signs the application, which goes to the municipality; its answer is kept for the
    registration screen. The tries left are read from the card (none spent) and said; a wrong
    password says them again; a locked one is explained (the municipal office resets it) and the
    session ends with the card given back. Another card than the one that proved the holder, or a
    card without a signing certificate, is said and signs nothing."""

    step = Step.SIGNING
    timeout = 90

    async def run(self, context: SessionContext) -> Outcome:
        tries: int | None = None
        wrong = False
        password = password_buffer()
        try:
            while True:
                if context.card is None or not self.terminal.slot.present():
                    tries, wrong = None, False
                    if (outcome := await self._card(context)) is not None:
                        return outcome
                if tries is None:
                    try:
                        tries = await asyncio.to_thread(self._placed(context).signing_tries_left)
                    except NoSigningCertificate:
                        return await self._unable(context)
                    except CardProblem as problem:  # taken away, or unreadable now: placed again
                        log.info("the signing password's tries not read: %s", type(problem).__name__)
                        context.card = None
                        continue
                    if tries == 0:
                        return await self._locked(context)
                self._show(password, tries, wrong)
                touch = await self.touch("char", "delete", "ok")
                if (outcome := ending(touch)) is not None:
                    return outcome
                if touch.action == "char":
                    if _character(touch.value) and len(password) < MOST:
                        password.append(touch.value)
                elif touch.action == "delete":
                    password.backspace()
                elif touch.action == "ok" and len(password) >= LEAST:
                    try:
                        shown = await self._apply(context, password)
                    except WrongPin as refused:
                        tries, wrong = refused.tries_left, True
                        if isinstance(refused, PinLocked) or refused.tries_left == 0:
                            return await self._locked(context)
                        continue
                    except OtherCard:
                        await self._other_card(context)
                        continue
                    except CardRemoved as gone:
                        log.info("card gone while signing: %s", gone)
                        context.card = None
                        continue
                    except NoSigningCertificate:
                        return await self._unable(context)
                    except Refused as refused:
                        context.refusal, context.reason = refused.refusal, refused.code
                        return Outcome.REFUSED
                    finally:
                        password.wipe()
                    context.registration, context.registration_asked, context.applied = shown, True, True
                    return Outcome.NEXT
        finally:
            password.wipe()

    @staticmethod
    def _placed(context: SessionContext) -> HolderCard:
        assert context.card is not None
        return context.card

    async def _apply(self, context: SessionContext, password: PinBuffer) -> RegistrationView:
        application = applying(context)
        assert application.municipality is not None
        return await self.center(
            linked(context).apply_for_registration,
            self._placed(context),
            password,
            application.municipality,
            application.domicile,
            application.head,
        )

    async def _card(self, context: SessionContext) -> Outcome | None:
        """The card in the reader, read (``None``), or the resident's cancel or back. A card still
        there from an application made now serves again; another card than the one the PIN
        proved is refused (the application is that holder's)."""
        slot = self.terminal.slot
        context.card = None
        if slot.present():  # there before this screen: not read; taken and placed again
            self.show(card="place", problem="signing.place_again", entered=0)
            index, result = await first(slot.wait_for_removal(), self.touch())
            if index == 1:
                return ending(result) or Outcome.CANCEL
        problem: str | None = None
        while True:
            self.show(card="place", problem=problem, entered=0, busy=None)
            index, result = await first(slot.wait_for_card(), self.touch())
            if index == 1:
                return ending(result) or Outcome.CANCEL
            self.terminal.activity.mark()
            self.show(card="reading", problem=None)
            card = ResidentCard(result)
            try:
                reading = await asyncio.to_thread(card.read)
            except CardUnreadable as error:
                problem = unread_problem(error)
            else:
                if (
                    reading.certificate is None
                    or not context.certificate
                    or (bytes(context.certificate) == reading.certificate)
                ):
                    context.card = card
                    return None
                problem = "signing.other_card"
            await asyncio.to_thread(card.finish)
            self.show(card="place", problem=problem)
            await slot.wait_for_removal()

    async def _other_card(self, context: SessionContext) -> None:
        """Not the holder's card (found by the link, when the card opens its certificate only
        after the PIN): said, and taken away; the next card placed is read afresh."""
        card, context.card = self._placed(context), None
        await asyncio.to_thread(card.finish)
        self.show(card="place", problem="signing.other_card", entered=0)
        await self.terminal.slot.wait_for_removal()

    def _show(self, password: PinBuffer, tries: int | None, wrong: bool) -> None:
        self.show(
            card="ready",
            problem=None,
            entered=len(password),
            least=LEAST,
            most=MOST,
            tries=tries,
            wrong=wrong,
            busy=None,
        )

    async def _unable(self, context: SessionContext) -> Outcome:
        """A card without a signing certificate (under 15, or not chosen): nothing to sign with."""
        self.show(card="unable", problem="signing.no_certificate", entered=0, busy=None)
        while True:
            touch = await self.touch()
            if (outcome := ending(touch)) is not None:
                return outcome

    async def _locked(self, context: SessionContext) -> Outcome:
        self.show(card="locked", problem=None, entered=0, tries=0, wrong=False, busy=None)
        await self.touch("ok")
        context.reason = "signing_locked"
        return Outcome.LOCKED


def _character(value: object) -> bool:
    return isinstance(value, str) and len(value) == 1 and value in PASSWORD_ALPHABET
