"""The kiosk's side of one resident's business with the center (no UI): open a session, prove the
holder with the card, read what can be issued, order, and check every copy before it is printed.

Everything the kiosk receives about the person arrives sealed to this terminal and is opened
here, against this session's own binding: the offer (household members, years) with
:func:`documents.offer.open_offer`, each copy with :func:`documents.open_sealed` and its page codes
with :func:`printing.page_signing.check_page_codes`. A copy bound to another order, session,
terminal or card, or whose page codes do not state its pages, raises, and nothing of it is
printed. The PIN goes from its :class:`~hardware.card.pin.PinBuffer` to the card only (and is
wiped there).

This is where the center's answers become the kiosk's: the offer an :class:`~kiosk.offer.Offer`,
a refusal a :class:`~kiosk.errors.Refused` with its code and words. A municipality's refusal about
the person reaches the center only as ``refused_by_municipality``; its detailed reason (code and
words) comes sealed to this terminal and is opened here (:func:`documents.refusal.open_refusal`),
as is each certificate's reason in the offer's sealed part, so the screen says what it always
said. A sealed reason that does not open (a center that lies, or a broken one) is shown as the
generic refusal, never a crash. A refusal that means the session itself is gone, when ordering,
is no answer to show the resident: it is raised as the center's and fails the session, as a
center out of reach does.

The registered domicile (本籍地): :meth:`KioskSession.registration` reads the holder's usage
registration (its status sealed by the domicile municipality to this terminal), and
:meth:`KioskSession.apply_for_registration` makes one: the application signed by the card's
signing key and sealed to the municipality (:mod:`kiosk.registration`). :meth:`KioskSession.offer`
with ``source="domicile"`` reads that municipality's offer, and the session's orders go there from
then on. :meth:`KioskSession.issuance_record` reads every issuance made with the card, each
municipality's record sealed to this terminal, merged (:mod:`kiosk.issuance_record`). All of it
stays in the session and goes at :meth:`KioskSession.forget`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from center.client import CenterClient, CenterRefusal
from center.messages import RegistrationResponse
from center.protocol import resident_binding
from center.signing import unsealed_b64url
from documents import Binding, DocumentError, SealingKey, TrustedKey, b64url_decode, open_sealed
from documents.issuance_record import IssuanceRecord, open_issuance_record
from documents.offer import open_offer
from documents.refusal import GENERIC_REFUSAL, RefusalReason, open_refusal
from documents.registration import open_registration_status
from hardware.card.jpki import UserAuthCertificate
from hardware.card.pin import PinBuffer
from kiosk.errors import KioskError, OtherCard, Refusal, Refused
from kiosk.issuance_record import IssuanceRecordView, merged
from kiosk.journal import JournalEntry, OrderJournal
from kiosk.municipalities import ParticipatingMunicipalities, fetch_municipalities
from kiosk.offer import CertificateOffer, Member, Offer
from kiosk.order import Ordered
from kiosk.ports import HolderCard
from kiosk.recovery import RESTART, recover
from kiosk.registration import (
    SOURCES,
    ApplicationRefused,
    RegistrationView,
    Source,
    application_of,
    build_application,
    check_typed,
)
from printing.page_signing import check_page_codes

__all__ = ["KioskError", "KioskSession", "Offered"]

log = logging.getLogger(__name__)

# the center's answers, when ordering, that end the session rather than refuse one order
SESSION_ENDING = frozenset(
    {"unknown_session", "session_expired", "session_not_authenticated", "idempotency_conflict"}
)
# the center's (and the domicile municipality's) word that the holder has no usage registration
NO_REGISTRATION = frozenset({"no_registration", "unknown_registration"})


@dataclass(frozen=True)
class Offered:
    """The center's offer as it came: the public part and the opened personal part."""

    municipality: str
    certificates: dict[str, Any]
    max_copies: int
    personal: dict[str, Any]

    def offer(self) -> Offer:
        """As the steps read it."""
        personal = self.personal
        sealed = personal.get("reasons")
        reasons: Mapping[str, Any] = sealed if isinstance(sealed, dict) else {}
        return Offer(
            municipality=self.municipality,
            certificates={
                kind: CertificateOffer(
                    item["fee"],
                    item["max_copies"],
                    item["available"],
                    _reason(item["reason"], reasons.get(kind)),
                    _closed(item),
                    _personal(reasons.get(kind)),
                )
                for kind, item in self.certificates.items()
            },
            max_copies=self.max_copies,
            household=tuple(
                Member(m["member"], m["name"], m.get("name_kana"), m["relationship"], m["holder"])
                for m in personal["household"]
            ),
            tax_years=tuple(personal["tax_years"]),
            tax_kinds=tuple(personal["tax_kinds"]),
            my_number=bool(personal.get("my_number")),
        )


def _personal(sealed: object) -> str | None:
    """The municipality's sealed reason, if it gave one."""
    return sealed if isinstance(sealed, str) and sealed else None


def _reason(public: str | None, sealed: object) -> str | None:
    """Why a certificate cannot be issued: the municipality's sealed reason where the public part
    says only ``refused_by_municipality``; the public reason otherwise (the center's calendar, or
    a reason of the municipality's settings)."""
    if public == GENERIC_REFUSAL and isinstance(sealed, str) and sealed:
        return sealed
    return public


def _closed(item: Mapping[str, Any]) -> Refusal | None:
    """The center's words for a certificate it closed itself (the calendar, an operator's stop)."""
    words, reason = item.get("message_en"), item.get("reason")
    if item.get("available") or not isinstance(words, str) or not isinstance(reason, str):
        return None
    ja = item.get("message_ja")
    return Refusal(reason, words, ja if isinstance(ja, str) and ja else None)


def refusal_of(error: CenterRefusal, reason: RefusalReason | None = None) -> Refusal:
    """What the resident is shown of the center's refusal: its code, its words; or those of the
    municipality's ``reason``, sealed to this terminal and opened."""
    if reason is not None:
        return Refusal(reason.code, reason.message_en, reason.message_ja)
    words = error.details.get("message_ja")
    return Refusal(error.code, error.message, words if isinstance(words, str) and words else None)


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
        self.source: Source = "residence"  # whom the offer and the order go to
        self.registration_view: RegistrationView | None = None  # the holder's, once read
        self.record: IssuanceRecordView | None = None  # the holder's issuances, once read
        self._challenge: bytes | None = None  # the open session's, until the card has signed it
        self._proven: tuple[bytes, UserAuthCertificate] | None = None  # the challenge signed, by
        self._municipalities: ParticipatingMunicipalities | None = None

    @property
    def terminal_id(self) -> str:
        return self.client.terminal.terminal_id

    def participating_municipalities(self) -> ParticipatingMunicipalities:
        """The municipalities a resident can choose, each with its sealing key, as the center
        lists them and as far as their statements verify against this kiosk's trusted keys
        (:mod:`kiosk.municipalities`); kept for the session (an application seals to one)."""
        self._municipalities = fetch_municipalities(self.client, self.trust, clock=self.clock)
        return self._municipalities

    def refusal(self, error: CenterRefusal) -> Refusal:
        """What the resident is shown of ``error``: for ``refused_by_municipality``, the reason the
        municipality sealed to this terminal for this session; the generic refusal if there is
        none or it does not open (logged by its type, never its content)."""
        sealed = error.details.get("sealed")
        if error.code != GENERIC_REFUSAL or not isinstance(sealed, str) or self.session_id is None:
            return refusal_of(error)
        try:
            reason = open_refusal(
                b64url_decode(sealed),
                terminal_id=self.terminal_id,
                terminal_key=self.client.terminal.key,
                trust=self.trust,
                session_id=self.session_id,
                now=self.clock(),
            )
        except (DocumentError, ValueError) as unopened:
            log.warning(
                "a sealed refusal did not open (%s): the generic refusal is shown", type(unopened).__name__
            )
            return refusal_of(error)
        return refusal_of(error, reason)

    @contextmanager
    def refusals(self) -> Iterator[None]:
        """The center's refusals raised as the kiosk's."""
        try:
            yield
        except CenterRefusal as error:
            raise Refused(self.refusal(error)) from error

    def open(self) -> None:
        """A center session and its challenge for the card, before the PIN is typed: a closed
        service (hours, a suspension) is refused here (:class:`Refused`)."""
        with self.refusals():
            opened = self.client.open_session()
        self.session_id, self._challenge = opened.session_id, opened.challenge

    def authenticate(self, card: HolderCard, pin: PinBuffer) -> Offer:
        """:meth:`prove`, and the offer as the steps read it."""
        return self.prove(card, pin).offer()

    def prove(self, card: HolderCard, pin: PinBuffer) -> Offered:
        """The card proves its holder over the open session (one is opened if none is; after a
        wrong PIN its challenge, never signed, serves again): VERIFY with ``pin``, then the
        signature; the center authenticates the resident; the offer, opened. The card's errors (a
        wrong PIN, a locked card) are raised as the card raises them; the center's refusals as
        :class:`Refused`."""
        if self._challenge is None or self.session_id is None:
            self.open()
        assert self._challenge is not None and self.session_id is not None
        session_id = self.session_id
        challenge = self._challenge
        proof = card.prove(pin, resident_binding(session_id, self.terminal_id, challenge))
        self._challenge = None  # signed: the center takes it once
        self.holder_certificate = Binding.holder_hash(proof.certificate.der)
        with self.refusals():
            self.client.authenticate_resident(session_id, proof.certificate.der, proof.signature)
        self._proven = (challenge, proof.certificate)
        return self.offered("residence")

    def offer(self, source: Source = "residence") -> Offer:
        """:meth:`offered`, as the steps read it."""
        return self.offered(source).offer()

    def offered(self, source: Source = "residence") -> Offered:
        """What ``source``'s municipality offers the proven holder now, opened: the residence
        (住所地) or the registered domicile (本籍地, once its usage registration is approved; the
        center refuses ``no_registration`` otherwise, and the domicile municipality a registration
        still pending or suspended). The session's orders go to ``source`` from now on."""
        if source not in SOURCES:
            raise ValueError(f"an offer's source is one of {SOURCES}")
        session_id, holder = self._holder()
        with self.refusals():
            offered = self.client.offer(session_id, source=source)
        personal = open_offer(
            unsealed_b64url(offered["sealed"]),
            terminal_id=self.terminal_id,
            terminal_key=self.client.terminal.key,
            trust=self.trust,
            session_id=session_id,
            holder_certificate=holder,
            now=self.clock(),
        )
        self.source = source
        return Offered(offered["municipality"], offered["certificates"], offered["max_copies"], personal)

    # -- the registered domicile (本籍地の利用登録) -----------------------------------------------

    def registration(self) -> RegistrationView | None:
        """The proven holder's usage registration of a registered domicile, as its municipality
        sealed it to this terminal (``None``: there is none); kept as ``registration_view``."""
        session_id, holder = self._holder()
        try:
            answer = self.client.registration(session_id)
        except CenterRefusal as error:
            if error.code in NO_REGISTRATION:
                self.registration_view = None
                return None
            raise Refused(self.refusal(error)) from error
        self.registration_view = self._opened_status(answer, session_id, holder)
        return self.registration_view

    def apply_for_registration(
        self, card: HolderCard, password: PinBuffer, municipality: str, domicile: str, head: str
    ) -> RegistrationView:
        """The usage registration applied for (利用登録申請): the application for ``municipality``
        (one of :meth:`participating_municipalities`), the 本籍 ``domicile`` and the 筆頭者 ``head``
        as typed, signed by ``card`` (the session holder's own: :class:`OtherCard` otherwise)
        with the signing ``password`` (wiped whatever happens), sealed to the municipality, sent
        with the OCSP question about the signing certificate; the status it answered.

        Before anything is signed: :class:`ApplicationRefused` for what was typed or a
        municipality not verified here. The card's errors as :meth:`HolderCard.sign` raises them,
        the center's and the municipality's refusals as :class:`Refused`."""
        try:
            session_id, holder = self._holder()
            assert self._proven is not None
            challenge, certificate = self._proven
            check_typed(domicile, head)
            sealing_key = self._sealing_key(municipality)
            placed = card.holder_certificate()
            if placed is not None and Binding.holder_hash(placed) != holder:
                raise OtherCard("the card placed is not the session holder's")
            application = application_of(
                municipality=municipality,
                session_id=session_id,
                terminal_id=self.terminal_id,
                challenge=challenge,
                auth_serial=certificate.serial_number,
                domicile=domicile,
                head=head,
            )
            signed = card.sign(password, application)
        finally:
            password.wipe()
        built = build_application(
            application, signed, sealing_key, session_id=session_id, terminal_id=self.terminal_id
        )
        with self.refusals():
            answer = self.client.register_domicile(session_id, municipality, built.sealed, built.ocsp_request)
        self.registration_view = self._opened_status(answer, session_id, holder)
        return self.registration_view

    def _sealing_key(self, municipality: str) -> SealingKey:
        listed = self._municipalities or self.participating_municipalities()
        key = listed.sealing_key(municipality)
        if key is None:
            raise ApplicationRefused("unknown_municipality", "not a participating municipality verified here")
        return key

    def _opened_status(self, answer: RegistrationResponse, session_id: str, holder: str) -> RegistrationView:
        """The status sealed in ``answer``, opened against this session: a status that does not
        open, or is another municipality's than the answer says, is a :class:`KioskError`."""
        try:
            content = open_registration_status(
                unsealed_b64url(answer.sealed),
                terminal_id=self.terminal_id,
                terminal_key=self.client.terminal.key,
                trust=self.trust,
                session_id=session_id,
                holder_certificate=holder,
                now=self.clock(),
            )
        except (DocumentError, ValueError) as unopened:
            raise KioskError(f"the registration's status did not open ({type(unopened).__name__})") from None
        view = RegistrationView.from_content(content)
        if view.municipality != answer.municipality:
            raise KioskError("the registration's status is another municipality's")
        return view

    # -- the resident's own record (交付履歴の確認) ------------------------------------------------

    def issuance_record(self) -> IssuanceRecordView:
        """Every issuance made with the holder's card in the last 12 months, at the residence and
        the registered domicile, merged newest first; a municipality that could not answer, or
        whose record does not open against this session, is listed as unavailable (logged by the
        kind of failure only). Kept as ``record``."""
        session_id, holder = self._holder()
        with self.refusals():
            answer = self.client.issuance_record(session_id)
        records: list[IssuanceRecord] = []
        unavailable = list(answer.unavailable)
        for entry in answer.records:
            try:
                records.append(
                    open_issuance_record(
                        unsealed_b64url(entry.sealed),
                        municipality=entry.municipality,
                        terminal_id=self.terminal_id,
                        terminal_key=self.client.terminal.key,
                        trust=self.trust,
                        session_id=session_id,
                        holder_certificate=holder,
                        now=self.clock(),
                    )
                )
            except (DocumentError, ValueError) as unopened:
                log.warning("an issuance record did not open (%s)", type(unopened).__name__)
                unavailable.append(entry.municipality)
        self.record = merged(records, unavailable)
        return self.record

    def _holder(self) -> tuple[str, str]:
        """The session and its proven holder's certificate hash; :class:`KioskError` before the
        card proved it."""
        if self.session_id is None or self.holder_certificate is None or self._proven is None:
            raise KioskError("no authenticated session")
        return self.session_id, self.holder_certificate

    def place(
        self, items: Sequence[Mapping[str, object]], *, printer: int = 1, key: str | None = None
    ) -> Ordered:
        """Order ``items``; every copy opened and checked against this session before it is
        returned (``KioskError`` and nothing to print otherwise; the order is then voided). A
        refusal of the order is :class:`Refused`, with the order it voided (its payment is to be
        reported refunded); one that ends the session is raised as the center's."""
        if self.session_id is None or self.holder_certificate is None:
            raise KioskError("no authenticated session")
        try:
            answer = self.client.place_order(
                self.session_id,
                key or secrets.token_hex(12),
                [dict(item) for item in items],
                printer=printer,
                source=self.source,
            )
        except CenterRefusal as refusal:
            voided = refusal.details.get("order_id")
            if not isinstance(voided, str):
                voided = None
            if voided is not None:  # voided at the center: the payment is to be refunded
                self.order = Ordered(voided, 0)
            if refusal.code in SESSION_ENDING:
                raise
            raise Refused(self.refusal(refusal), order_id=voided) from refusal
        if answer.fee is None:  # a placed order has its fee: this is no answer of the center's
            raise KioskError("the center placed the order without its fee")
        ordered = Ordered(answer.order_id, answer.fee, fees={c.issue_number: c.fee for c in answer.copies})
        self.order = ordered
        expected = self.binding()
        try:
            for copy in answer.copies:
                opened = open_sealed(
                    unsealed_b64url(copy.sealed),
                    terminal_id=self.terminal_id,
                    terminal_key=self.client.terminal.key,
                    trust=self.trust,
                    expected=expected,
                    now=self.clock(),
                )
                check_page_codes(opened.signed, self.trust, now=self.clock())  # each page's code
                ordered.copies.append(opened)
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

    def printing(self) -> None:
        """The job goes to the printer now (from here on only this terminal ends the order)."""
        self.client.printing(self._order().order_id)

    def printed(self, issue_numbers: Sequence[str]) -> None:
        """These copies came out whole (the order's others are void)."""
        self.client.printed(self._order().order_id, list(issue_numbers))

    def settle(self, paid: int) -> None:
        """``paid`` yen went from escrow into the cash box."""
        self.client.settle(self._order().order_id, paid)

    def void(self, reason: str) -> None:
        """Cancel the order, if there is one not printed (quiet when there is none)."""
        if self.order is not None:
            self.client.void(self.order.order_id, reason)

    def refunded(self) -> None:
        if self.order is not None:
            self.client.refunded(self.order.order_id)

    def recover(self, journal: OrderJournal, reason: str = RESTART) -> JournalEntry | None:
        """Tell the center how the order in ``journal`` ended (:func:`kiosk.recovery.recover`:
        the entry stays while the center cannot be reached); the entry if it was ended."""
        return recover(journal, self.client, reason)

    def report_alarm(self, causes: str, state: str) -> None:
        """Tell the center (its audit log, the operators) of the door or tamper alarm, or of wrong staff
        codes in a row."""
        self.client.report_alarm(causes, state)

    def forget(self) -> None:
        """The session is over: nothing of it is kept."""
        if self.order is not None:
            self.order.copies.clear()
        self.order = None
        self.session_id = self.holder_certificate = None
        self._challenge = None
        self._proven = None
        self.source = "residence"
        self.registration_view = None
        self.record = None
        self._municipalities = None

    def _order(self) -> Ordered:
        if self.order is None:
            raise KioskError("no order in this session")
        return self.order
