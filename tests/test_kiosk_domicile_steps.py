"""The registered domicile's steps (本籍地の利用登録, its application) and the issuance record
(交付履歴の確認), run by the real controller and states on the headless screen, with the emulated
card in the in-process reader (its PIN and its signing password checked by the card itself) and
the stand-in devices.

The center's side is :class:`ContractLink`: the calls the steps make of the link
(``registration``, ``participating_municipalities``, ``apply_for_registration``,
``offer(source=...)``, ``issuance_record``), answering the link's own values
(:class:`~kiosk.registration.RegistrationView`, :class:`~kiosk.issuance_record.IssuanceRecordView`)
from memory, so that every status and outcome is reached on demand; the application is signed by
the card with its signing password, as the real link has it (``ResidentCard.sign``). The real link
against real servers is ``tests/test_kiosk_domicile_application.py``'s and the center's tests'.
The record is printed by the real renderer onto the stand-in printer's plain tray.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from documents import SealingKey
from hardware.card.pin import PinBuffer
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from kiosk.devices.card_slot import ReaderSlot
from kiosk.devices.stand_ins import StandInCashbox, StandInPrinter, StandInReminder
from kiosk.errors import Refusal, Refused
from kiosk.headless import HeadlessScreen
from kiosk.issuance_record import IssuanceRecordView, IssuanceRow, RecordSource
from kiosk.journal import OrderJournal
from kiosk.municipalities import ParticipatingMunicipalities
from kiosk.offer import CertificateOffer, Offer
from kiosk.ports import CenterLink, HolderCard, Touch
from kiosk.registration import RegistrationView
from kiosk.terminal import Terminal
from kiosk.workflow.controller import Workflow
from kiosk.workflow.states import workflow_for
from kiosk.workflow.states.choice import keeps_register
from kiosk.workflow.steps import TRANSITIONS, Outcome, Step
from koufu.cards import issue_card
from support.domicile_steps import APPLICATION_STEPS, DOMICILE_STEPS

NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
TAKEN: set[tuple[Step, Outcome]] = set()  # every transition any test of this module took
# the steps of this module: every line of the table from them is taken here (the last test checks)
NEW_STEPS = DOMICILE_STEPS
PIN = "1234"
PASSWORD = "ABC123"  # the emulated card's signing password
DOMICILE = "東京都千代田区千代田1番地"
HEAD = "山田 太郎"
CANARY = "佐藤花子"


def Registration(status: str, **fields: Any) -> RegistrationView:
    """A registration's status as the link opens it (koufu-registration/1), of 千代田区."""
    values: dict[str, Any] = {
        "municipality": "131016",
        "name": "千代田区",
        "name_en": "Chiyoda City",
        "status": status,
        "applied_at": NOW - dt.timedelta(days=1),
        "approves_at": NOW + dt.timedelta(days=7),
        **fields,
    }
    return RegistrationView(**values)


def row(issued_at: dt.datetime, **fields: Any) -> IssuanceRow:
    values: dict[str, Any] = {
        "municipality": "131016",
        "name": "千代田区",
        "name_en": "Chiyoda City",
        "store": "コンビニ丸の内店",
        "terminal_id": "T-0001",
        "certificate_type": "resident_record",
        "copies": 1,
        "issue_numbers": ("131016-2026-000001",),
        "voided": (),
        **fields,
    }
    return IssuanceRow(issued_at=issued_at, **values)


def record_of(rows: Sequence[IssuanceRow], unavailable: Sequence[str] = ()) -> IssuanceRecordView:
    """The merged record of ``rows`` (each municipality's a source), newest first, as the link makes it."""
    year = dt.timedelta(days=365)
    sources = tuple(
        RecordSource(code, name, name_en, NOW - year, NOW)
        for code, name, name_en in dict.fromkeys((r.municipality, r.name, r.name_en) for r in rows)
    )
    return IssuanceRecordView(
        tuple(sorted(rows, key=lambda r: r.issued_at, reverse=True)), sources, tuple(unavailable)
    )


PERSONAL = frozenset({"no_register_here", "register_closed"})  # reasons the municipality seals


def offer(
    municipality: str, kinds: dict[str, tuple[bool, str | None]], *, personal: dict[str, str] | None = None
) -> Offer:
    """An offer as the link reads it: each kind's (available, reason), the municipality's own
    sealed reason being the reason when it is one about the person, unless ``personal`` says it
    (a public reason of the calendar beside it)."""
    sealed = {kind: reason for kind, (_, reason) in kinds.items() if reason in PERSONAL} | (personal or {})
    return Offer(
        municipality=municipality,
        certificates={
            kind: CertificateOffer(450, 3, available, reason, personal_reason=sealed.get(kind))
            for kind, (available, reason) in kinds.items()
        },
        max_copies=5,
        household=(),
        tax_years=(),
        tax_kinds=(),
        my_number=False,
    )


RESIDENCE = offer(
    "132012",
    {
        "resident_record": (True, None),
        "family_register": (False, "no_register_here"),
        "family_register_attachment": (False, "no_register_here"),
    },
)
DOMICILE_OFFER = offer(
    "131016", {"family_register": (True, None), "family_register_attachment": (True, None)}
)


def sealing_key(code: str, name: str, name_en: str, prefecture: str) -> SealingKey:
    return SealingKey(
        code,
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        name,
        name_en,
        prefecture,
        NOW + dt.timedelta(days=365),
    )


MUNICIPALITIES = ParticipatingMunicipalities(
    {
        "131016": sealing_key("131016", "千代田区", "Chiyoda City", "東京都"),
        "132012": sealing_key("132012", "八王子市", "Hachioji City", "東京都"),
        "011002": sealing_key("011002", "札幌市", "Sapporo City", "北海道"),
    }
)


@dataclass
class ContractLink:
    """The center's side as the contract names it, in memory (see the module's docstring)."""

    known: RegistrationView | None = None
    residence: Offer = RESIDENCE
    answer: RegistrationView = field(default_factory=lambda: Registration("pending"))
    domicile_refusal: Refusal | None = None
    application_refusal: Refusal | None = None
    record: IssuanceRecordView = field(default_factory=lambda: record_of(()))
    session_id: str | None = None
    order: Any = None
    calls: list[str] = field(default_factory=list)
    applications: list[tuple[str, str, str, bytes]] = field(default_factory=list)

    def open(self) -> None:
        self.session_id = "S-1"

    def authenticate(self, card: HolderCard, pin: PinBuffer) -> Offer:
        card.prove(pin, b"challenge")
        return self.residence

    def registration(self) -> RegistrationView | None:
        self.calls.append("registration")
        return self.known

    def participating_municipalities(self) -> ParticipatingMunicipalities:
        self.calls.append("municipalities")
        return MUNICIPALITIES

    def apply_for_registration(
        self, card: HolderCard, password: PinBuffer, municipality: str, domicile: str, head: str
    ) -> RegistrationView:
        """The card verifies the signing password and signs (as the real link has it do)."""
        signed = card.sign(password, f"{municipality}|{domicile}|{head}".encode())
        if self.application_refusal is not None:
            raise Refused(self.application_refusal)
        signature = signed.signature
        self.applications.append((municipality, domicile, head, signature))
        return self.answer

    def offer(self, source: str = "residence") -> Offer:
        self.calls.append(f"offer:{source}")
        if self.domicile_refusal is not None:
            raise Refused(self.domicile_refusal)
        return DOMICILE_OFFER

    def issuance_record(self) -> IssuanceRecordView:
        self.calls.append("issuance_record")
        return self.record

    def forget(self) -> None:
        self.session_id = None

    def recover(self, journal: OrderJournal, reason: str = "") -> None:
        return None


@dataclass
class Kiosk:
    screen: HeadlessScreen
    reader: InProcessReader
    link: ContractLink
    printer: StandInPrinter
    workflow: Workflow
    card: Path

    def place(self) -> None:
        self.reader.insert(VirtualCard.open(self.card))

    def take(self) -> None:
        self.reader.remove()

    async def session(self, act: Callable[[Kiosk], Awaitable[None]]) -> Step:
        try:
            return await self._session(act)
        finally:
            TAKEN.update((source, outcome) for source, outcome, _target in self.workflow.history)

    async def _session(self, act: Callable[[Kiosk], Awaitable[None]]) -> Step:
        running = asyncio.ensure_future(self.workflow.run_session())
        acting = asyncio.ensure_future(act(self))
        await asyncio.wait({running, acting}, return_when=asyncio.FIRST_EXCEPTION)
        if acting.done() and acting.exception() is not None:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            raise acting.exception()  # type: ignore[misc]
        await acting
        return await running

    async def through_the_pin(self, whose: str = "domicile") -> None:
        s = self.screen
        await s.wait_for(Step.IDLE)
        s.press("start")
        await s.wait_for(Step.LANGUAGE)
        s.press("language", "ja")
        await s.wait_for(Step.PLACE_CARD, lambda v: "reading" in v)
        self.place()
        await s.wait_for(Step.WHOSE)
        s.press("whose", whose)
        await s.wait_for(Step.PIN, lambda v: "entered" in v)
        for digit in PIN:
            s.press("digit", int(digit))
        await s.wait_for(Step.PIN, lambda v: v["entered"] == len(PIN))
        s.press("ok")
        await s.wait_for(Step.TAKE_CARD)
        self.take()

    async def through_the_application(self, prefecture: str, municipality: str, head: str = HEAD) -> None:
        """Once the registration screen shows: apply, choose ``prefecture`` and ``municipality``,
        type the 本籍 and ``head`` (筆頭者), confirm: the signing step asks for the card."""
        s = self.screen
        await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        s.press("apply")
        await s.wait_for(Step.PREFECTURE, lambda v: "prefectures" in v)
        s.press("prefecture", prefecture)
        await s.wait_for(Step.MUNICIPALITY, lambda v: "municipalities" in v)
        s.press("municipality", municipality)
        await s.wait_for(Step.DOMICILE_ENTRY, lambda v: "value" in v)
        s.press("next", DOMICILE)
        await s.wait_for(Step.HEAD_ENTRY, lambda v: "value" in v)
        s.press("next", head)
        await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
        s.press("next")
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "place")

    async def finish(self, end: Step = Step.DONE) -> None:
        await self.screen.wait_for(end, lambda v: v is not None)
        if self.reader.card_present():
            await self.screen.wait_for(end, lambda v: v.get("remind", 0) >= 1)
            self.take()
        self.screen.press("ok")


class BrokenScreen(HeadlessScreen):
    """A screen that breaks (raises) when a touch is awaited on ``broken``: a UI fault there."""

    def __init__(self, broken: Step | None) -> None:
        super().__init__()
        self.broken = broken

    async def touch(self, step: Step) -> Touch:
        if step is self.broken:
            raise RuntimeError("the screen broke")
        return await super().touch(step)


@pytest.fixture
def kiosk(tmp_path: Path, card_path: Path) -> Iterator[Callable[..., Kiosk]]:
    def make(*, broken: Step | None = None, timeouts: dict[Step, float] | None = None, **link: Any) -> Kiosk:
        screen = BrokenScreen(broken)
        reader = InProcessReader()
        contract = ContractLink(**link)
        printer = StandInPrinter()
        terminal = Terminal(
            screen,
            ReaderSlot(reader, poll=0.02),
            StandInCashbox(),
            printer,
            StandInReminder(),
            lambda: cast(CenterLink, contract),  # the link's methods the steps call
            OrderJournal(tmp_path / "journal.json"),
            remind_every=0.05,
        )
        return Kiosk(
            screen, reader, contract, printer, workflow_for(terminal, timeouts=timeouts or {}), card_path
        )

    yield make


def tries_are(tries: int, view: dict[str, Any]) -> bool:
    return bool(view.get("tries") == tries)


def run(coroutine: Awaitable[Step]) -> Step:
    async def main() -> Step:
        return await coroutine

    return asyncio.run(main())


# -- the registration -------------------------------------------------------------------------------


def test_no_registration_an_application_typed_signed_and_pending(kiosk: Callable[..., Kiosk]) -> None:
    k = kiosk()

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin()
        view = await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        assert view["status"] == "none" and view["can_apply"]
        s.press("apply")
        view = await s.wait_for(Step.PREFECTURE, lambda v: "prefectures" in v)
        assert [p["code"] for p in view["prefectures"]] == ["01", "13"]  # north to south
        s.press("prefecture", "47")  # not offered: nothing
        s.press("prefecture", "13")
        view = await s.wait_for(Step.MUNICIPALITY, lambda v: "municipalities" in v)
        assert [m["code"] for m in view["municipalities"]] == ["131016", "132012"]
        s.press("municipality", "011002")  # another prefecture's: nothing
        s.press("municipality", "131016")
        view = await s.wait_for(Step.DOMICILE_ENTRY, lambda v: "value" in v)
        assert view["municipality"]["name"] == "千代田区" and view["most"] == 100
        s.press("typing")
        s.press("next", "   ")
        await s.wait_for(Step.DOMICILE_ENTRY, lambda v: v["problem"] == "entry.empty")
        s.press("next", "東京都\n千代田区")
        await s.wait_for(Step.DOMICILE_ENTRY, lambda v: v["problem"] == "entry.not_plain")
        s.press("next", "あ" * 101)
        await s.wait_for(Step.DOMICILE_ENTRY, lambda v: v["problem"] == "entry.too_long")
        s.press("next", DOMICILE)
        await s.wait_for(Step.HEAD_ENTRY, lambda v: "value" in v)
        s.press("next", "山" * 41)
        await s.wait_for(Step.HEAD_ENTRY, lambda v: v["problem"] == "entry.too_long")
        s.press("next", HEAD)
        view = await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
        assert (view["domicile"], view["head"], view["municipality"]["code"]) == (DOMICILE, HEAD, "131016")
        s.press("back")  # back to the name: it is there again
        view = await s.wait_for(Step.HEAD_ENTRY, lambda v: "value" in v)
        assert view["value"] == HEAD
        s.press("next", HEAD)
        await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
        s.press("next")
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "place")
        k.place()
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready")
        for char in "ABC12Z":
            s.press("char", char)
        s.press("char", "a")  # not of the alphabet: nothing
        await s.wait_for(Step.SIGNING, lambda v: v["entered"] == 6)
        s.press("ok")
        view = await s.wait_for(Step.SIGNING, lambda v: v.get("wrong") is True and v["entered"] == 0)
        assert view["tries"] == 4 and view["least"] == 6 and view["most"] == 16
        for char in PASSWORD + "X":
            s.press("char", char)
        s.press("delete")
        await s.wait_for(Step.SIGNING, lambda v: v["entered"] == len(PASSWORD))
        s.press("ok")
        view = await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        assert view["status"] == "pending" and view["applied"] and not view["can_apply"]
        assert view["approves_at"] == "2026-12-14" and view["applied_at"] == "2026-12-06"
        s.press("apply")  # pending: nothing to apply for
        s.press("finish")
        await k.finish()

    assert run(k.session(act)) is Step.DONE
    [(municipality, domicile, head, signature)] = k.link.applications
    assert (municipality, domicile, head) == ("131016", DOMICILE, HEAD) and len(signature) == 256
    assert k.link.calls == ["registration", "municipalities"]
    assert not k.workflow.context.personal and not k.reader.card_present()
    assert DOMICILE not in repr(k.screen.views) and HEAD not in repr(k.workflow.history)


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_a_pending_or_suspended_registration_is_said_and_the_session_done(
    status: str, kiosk: Callable[..., Kiosk]
) -> None:
    k = kiosk(known=Registration(status))

    async def act(k: Kiosk) -> None:
        await k.through_the_pin()
        view = await k.screen.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        assert view["status"] == status and not view["applied"] and not view["can_apply"]
        assert view["municipality"] == {"code": "131016", "name": "千代田区", "name_en": "Chiyoda City"}
        k.screen.press("apply")
        k.screen.press("back")  # no way back: nothing
        k.screen.press("finish")
        await k.finish()

    assert run(k.session(act)) is Step.DONE
    assert k.link.calls == ["registration"]


def test_a_denied_registration_says_why_and_is_applied_for_again(kiosk: Callable[..., Kiosk]) -> None:
    denied = Registration(
        "denied",
        approves_at=None,
        reason="head_mismatch",
        message_ja="筆頭者が一致しません",
        message_en="The head does not match",
    )
    k = kiosk(known=denied, answer=Registration("denied", reason="head_mismatch", approves_at=None))

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin()
        view = await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        assert view["status"] == "denied" and view["can_apply"] and view["reason"] == "head_mismatch"
        assert view["message"] == {"ja": "筆頭者が一致しません", "en": "The head does not match"}
        await k.through_the_application("13", "131016", head=CANARY)
        k.place()
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready")
        for char in PASSWORD:
            s.press("char", char)
        s.press("ok")
        view = await s.wait_for(Step.REGISTRATION, lambda v: v.get("applied") is True)
        assert view["status"] == "denied" and view["can_apply"]
        s.press("apply")  # again: the card still in the reader serves, what was typed is there
        view = await s.wait_for(Step.PREFECTURE, lambda v: "prefectures" in v)
        assert view["chosen"] == "13"
        s.press("prefecture", "13")
        view = await s.wait_for(Step.MUNICIPALITY, lambda v: "municipalities" in v)
        assert view["chosen"] == "131016"
        s.press("municipality", "131016")
        view = await s.wait_for(Step.DOMICILE_ENTRY, lambda v: "value" in v)
        assert view["value"] == DOMICILE
        s.press("next", DOMICILE)
        view = await s.wait_for(Step.HEAD_ENTRY, lambda v: "value" in v)
        assert view["value"] == CANARY
        s.press("next", HEAD)
        await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
        s.press("next")
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready")  # no card asked for
        for char in PASSWORD:
            s.press("char", char)
        s.press("ok")
        await s.wait_for(Step.REGISTRATION, lambda v: v.get("applied") is True)
        s.press("finish")
        await k.finish()

    assert run(k.session(act)) is Step.DONE
    assert [(a[1], a[2]) for a in k.link.applications] == [(DOMICILE, CANARY), (DOMICILE, HEAD)]
    assert k.link.calls == ["registration", "municipalities"]  # each asked once a session
    assert not k.workflow.context.personal and CANARY not in repr(k.screen.views)


def test_an_approved_registration_offers_the_domicile_s_certificates(kiosk: Callable[..., Kiosk]) -> None:
    k = kiosk(known=Registration("approved"))

    async def act(k: Kiosk) -> None:
        await k.through_the_pin()
        view = await k.screen.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        assert [c["type"] for c in view["certificates"]] == ["family_register", "family_register_attachment"]
        assert all(c["available"] for c in view["certificates"]) and view["record"] is True
        k.screen.press("cancel")
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert k.link.calls == ["registration", "offer:domicile"]
    assert Step.REGISTRATION in k.screen.shown  # passed through, to the usual steps


def test_the_domicile_s_offer_refused_ends_the_session_with_its_words(kiosk: Callable[..., Kiosk]) -> None:
    k = kiosk(known=Registration("approved"), domicile_refusal=Refusal("municipality_stop", "Stopped"))

    async def act(k: Kiosk) -> None:
        await k.through_the_pin()
        view = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
        assert view["reason"] == "municipality_stop" and view["refusal"]["en"] == "Stopped"
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED


def test_whose_register_is_elsewhere_is_told_so_at_any_hour() -> None:
    """The sealed reason decides whether the residence keeps the register, not the public one: a
    family register closed for the night (the calendar's reason in public) is still elsewhere."""
    night = {"family_register": (False, "outside_service_hours")}
    assert not keeps_register(offer("131016", night, personal={"family_register": "no_register_here"}))
    assert keeps_register(offer("131016", night))  # closed for the night, and kept here
    assert keeps_register(offer("131016", {"family_register": (False, "register_closed")}))
    assert not keeps_register(offer("131016", {"resident_record": (True, None)}))  # not offered here


def test_a_residence_that_keeps_the_register_is_used_as_today(kiosk: Callable[..., Kiosk]) -> None:
    keeps = offer("131016", {"resident_record": (True, None), "family_register": (True, None)})
    k = kiosk(residence=keeps)

    async def act(k: Kiosk) -> None:
        await k.through_the_pin()
        view = await k.screen.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        assert [c["type"] for c in view["certificates"]] == ["family_register"]
        k.screen.press("cancel")
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert k.link.calls == [] and Step.REGISTRATION not in k.screen.shown


def test_a_locked_signing_password_is_explained_and_the_card_given_back(kiosk: Callable[..., Kiosk]) -> None:
    k = kiosk()

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin()
        await k.through_the_application("13", "132012")
        k.place()
        for tries in (4, 3, 2, 1):
            await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready" and v["entered"] == 0)
            for char in "ZZZZZZ":
                s.press("char", char)
            s.press("ok")
            await s.wait_for(Step.SIGNING, functools.partial(tries_are, tries))
        for char in "ZZZZZZ":
            s.press("char", char)
        s.press("ok")
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "locked")
        s.press("ok")
        view = await s.wait_for(Step.CANCELLED, lambda v: "reason" in v)
        assert view["reason"] == "signing_locked"
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert k.link.applications == [] and not k.reader.card_present()


def test_a_card_without_a_signing_certificate_signs_nothing(
    kiosk: Callable[..., Kiosk], tmp_path: Path, authority_dir: Path
) -> None:
    young = tmp_path / "young.json"  # no signing certificate (under 15)
    issue_card(young, authority_dir=authority_dir, pin=PIN, sign_password=None)
    k = kiosk()
    k.card = young

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin()
        await k.through_the_application("13", "131016")
        k.place()
        view = await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "unable")
        assert view["problem"] == "signing.no_certificate"
        s.press("char", "A")  # no keypad: nothing
        s.press("cancel")
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert k.link.applications == [] and not k.reader.card_present()


def test_another_card_at_the_signing_step_is_refused(
    kiosk: Callable[..., Kiosk], tmp_path: Path, authority_dir: Path
) -> None:
    k = kiosk()
    other = tmp_path / "other.json"  # another holder's card
    issue_card(other, authority_dir=authority_dir, pin=PIN, sign_password=PASSWORD)

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin()
        await k.through_the_application("01", "011002")
        k.reader.insert(VirtualCard.open(other))
        await s.wait_for(Step.SIGNING, lambda v: v.get("problem") == "signing.other_card")
        k.take()
        s.press("back")  # taken when the card has gone
        await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
        s.press("cancel")
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert k.link.applications == []


# -- the issuance record ----------------------------------------------------------------------------


def test_the_issuance_record_newest_first_printed_free_then_back_to_the_choice(
    kiosk: Callable[..., Kiosk],
) -> None:
    rows = (
        row(NOW - dt.timedelta(days=40), store=CANARY),
        row(
            NOW - dt.timedelta(days=2),
            municipality="011002",
            name="札幌市",
            name_en="Sapporo City",
            certificate_type="family_register",
            copies=2,
            issue_numbers=("011002-2026-000007", "011002-2026-000008"),
            voided=("011002-2026-000008",),
        ),
        row(NOW - dt.timedelta(days=10), certificate_type="tax"),
    )
    k = kiosk(residence=RESIDENCE, record=record_of(rows, unavailable=("132012",)))

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin("residence")
        await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        s.press("record")
        view = await s.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v)
        assert [row["issued_at"] for row in view["rows"]] == [
            "2026-12-05T15:00",  # JST, newest first, across both municipalities
            "2026-11-27T15:00",
            "2026-10-28T15:00",
        ]
        assert view["rows"][0]["voided"] == ["011002-2026-000008"] and view["rows"][0]["copies"] == 2
        assert view["unavailable"] == [{"code": "132012", "name": "八王子市", "name_en": "Hachioji City"}]
        s.press("print")
        await s.wait_for(Step.ISSUANCE_RECORD, lambda v: bool(v.get("printed")) and v.get("remind", 0) >= 1)
        k.printer.take()
        await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        s.press("record")  # again: not asked again
        await s.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v)
        s.press("back")
        await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        s.press("record")
        await s.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v)
        s.press("finish")
        await k.finish()

    assert run(k.session(act)) is Step.DONE
    assert k.link.calls == ["issuance_record", "municipalities"]
    assert k.printer.jobs == 1 and k.printer.pages_out >= 1  # the plain pages, taken
    assert not k.workflow.context.personal and CANARY not in repr(k.screen.views)
    assert k.workflow.context.issuance_record is None


def test_an_empty_record_and_a_printer_fault_said(
    kiosk: Callable[..., Kiosk], monkeypatch: pytest.MonkeyPatch
) -> None:
    k = kiosk()

    k.printer.fault = "jam"

    async def act(k: Kiosk) -> None:
        s = k.screen
        await k.through_the_pin("residence")
        await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        s.press("record")
        view = await s.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v)
        assert view["rows"] == [] and view["unavailable"] == []
        s.press("print")
        await s.wait_for(Step.ISSUANCE_RECORD, lambda v: v.get("problem") == "issuance_record.print_failed")
        s.press("cancel")
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert k.link.calls == ["issuance_record"]


def showing(key: str, view: dict[str, Any]) -> bool:
    return key in view


async def reach(k: Kiosk, step: Step) -> None:
    """From the start screen to ``step``'s screen, the short way (no registration yet)."""
    s = k.screen
    if step is Step.ISSUANCE_RECORD:
        await k.through_the_pin("residence")
        await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        s.press("record")
        await s.wait_for(step, lambda v: "rows" in v)
        return
    await k.through_the_pin()
    await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
    answers = [
        ("apply", None, Step.PREFECTURE, "prefectures"),
        ("prefecture", "13", Step.MUNICIPALITY, "municipalities"),
        ("municipality", "131016", Step.DOMICILE_ENTRY, "value"),
        ("next", DOMICILE, Step.HEAD_ENTRY, "value"),
        ("next", HEAD, Step.APPLICATION, "head"),
        ("next", None, Step.SIGNING, "card"),
    ]
    for action, value, following, shown in answers:
        if s.current is step:
            return
        s.press(action, value)
        await s.wait_for(following, functools.partial(showing, shown))


@pytest.mark.parametrize("step", (*APPLICATION_STEPS, Step.ISSUANCE_RECORD), ids=str)
def test_back_from_each_step_of_the_application_and_the_record(
    step: Step, kiosk: Callable[..., Kiosk]
) -> None:
    k = kiosk()
    before = {
        Step.ISSUANCE_RECORD: Step.CERTIFICATE_TYPE,
        **dict(zip(NEW_STEPS[1:7], NEW_STEPS[:6], strict=True)),
    }

    async def act(k: Kiosk) -> None:
        await reach(k, step)
        k.screen.press("back")
        await k.screen.wait_for(before[step])
        k.screen.press("cancel")
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED
    assert (step, Outcome.BACK, before[step]) in k.workflow.history


@pytest.mark.parametrize("step", NEW_STEPS, ids=str)
@pytest.mark.parametrize("outcome", [Outcome.CANCEL, Outcome.TIMEOUT, Outcome.ERROR], ids=str)
def test_cancel_walk_away_or_a_fault_at_every_new_step(
    step: Step, outcome: Outcome, kiosk: Callable[..., Kiosk]
) -> None:
    """Cancelled, timed out (the resident walked away) or failed at the step: the session ends
    there, the card asked for if it is in the reader, nothing of it kept."""
    k = kiosk(
        broken=step if outcome is Outcome.ERROR else None,
        timeouts={step: 0.3} if outcome is Outcome.TIMEOUT else None,
    )
    end = Step.FAILED if outcome is Outcome.ERROR else Step.CANCELLED

    async def act(k: Kiosk) -> None:
        await reach(k, step)
        if outcome is Outcome.CANCEL:
            k.screen.press("cancel")
        await k.finish(end)

    assert run(k.session(act)) is end
    assert k.workflow.history[-2] == (step, outcome, end)
    assert not k.workflow.context.personal and not k.reader.card_present()


def test_an_application_the_center_refuses_ends_with_its_words(kiosk: Callable[..., Kiosk]) -> None:
    k = kiosk(application_refusal=Refusal("unknown_municipality", "Not a participating municipality"))

    async def act(k: Kiosk) -> None:
        await reach(k, Step.SIGNING)
        k.place()
        await k.screen.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready")
        for char in PASSWORD:
            k.screen.press("char", char)
        k.screen.press("ok")
        view = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
        assert view["reason"] == "unknown_municipality"
        await k.finish(Step.CANCELLED)

    assert run(k.session(act)) is Step.CANCELLED


def test_zz_every_transition_of_the_new_steps_was_taken_by_this_module() -> None:
    """Runs last (pytest keeps the file's order): the tests above took every line of the table from
    the new steps, and the two into them."""
    assert TAKEN, "run the whole module: this checks what the other tests took"
    lines = [(s, o) for s, o in TRANSITIONS if s in NEW_STEPS]
    lines += [(Step.TAKE_CARD, Outcome.DOMICILE), (Step.CERTIFICATE_TYPE, Outcome.RECORD)]
    missing = sorted(
        f"{step.value}/{outcome.value}" for step, outcome in lines if (step, outcome) not in TAKEN
    )
    assert missing == []
