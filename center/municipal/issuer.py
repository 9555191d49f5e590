"""The municipality's certificate issuance (証明書の発行): from a request to sealed copies.

One request is one transaction. In it the issuer reads the settings and the records, checks
every item (:mod:`~center.municipal.eligibility`), takes issue numbers from the day's sequence,
builds each copy as a :class:`documents.Document` bound to the order, session, terminal and card,
signs it with the municipality's key, seals it to the requesting terminal's key, and writes the
issuance history (交付履歴) with the sealed copy. A refusal writes nothing.

Orders are idempotent: an order id is taken once (``issue_requests``), with the hash of what it
asked. The same request again (the center retrying after a lost answer) gets the very copies of
the first time, byte for byte, and never new issue numbers; another request under a used order
id is refused (:class:`OrderConflict`). Two requests with one order id at once: one waits for
the other's commit and then finds its copies.

The copies' later life is the center's to tell: printed, or voided with the reason (廃棄), never
both and never back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.dialects import postgresql, sqlite

from center.municipal import certificates, schema
from center.municipal.eligibility import Eligible, Holder, RegisteredEntry, check_request
from center.municipal.holder_proof import (
    PROOF_LIFETIME,
    HolderNotProven,
    HolderProof,
    ProvenHolder,
    prove_holder,
)
from center.municipal.issuance_errors import IssuanceError as IssuanceError
from center.municipal.issuance_errors import NotConfigured as NotConfigured
from center.municipal.records import RecordStore
from center.municipal.refusals import Refused
from center.municipal.registered_holder import registration_of
from center.municipal.registrations import Registration, Registrations
from center.municipal.requests import IssueRequest
from center.municipal.settings import MunicipalSettings
from center.municipal.stored_settings import load_settings as load_settings
from center.municipal.stored_settings import store_settings as store_settings
from documents import (
    Binding,
    Document,
    IssueNumber,
    MunicipalKey,
    cbor,
    code_digest,
    seal,
    sign,
    tokyo_day,
)
from printing.page_signing import sign_pages


class UntrustedTerminal(IssuanceError):
    """The terminal certificate is not from a trusted terminal CA, not valid now or not the
    requesting terminal's: no copy is sealed to a key the municipality cannot vouch for."""

    code = "untrusted_terminal"


class OrderConflict(IssuanceError):
    """The order id was used by another request."""

    code = "order_conflict"


class UnknownOrder(IssuanceError):
    code = "unknown_order"


class UnprovenHolder(IssuanceError):
    """The card's proof the center relayed does not prove this session's holder: nothing is
    issued or offered (``reason``: which check failed)."""

    code = "holder_not_proven"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class OrderVoided(IssuanceError):
    """The center voided the order before its request arrived: it is never issued."""

    code = "order_voided"


PURGE_PROOFS_EVERY = dt.timedelta(hours=1)  # how often proofs whose certificate has ended are dropped
VOIDED_UNISSUED = "voided"  # an order id's request hash when its void came before any request


class StatusConflict(IssuanceError):
    """A printed copy cannot be voided, nor a voided one printed."""

    code = "status_conflict"


@dataclass(frozen=True)
class IssuedCopy:
    item: int  # index of the request's item
    copy: int  # 1…copies
    issue_number: str
    pages: int
    fee: int  # yen
    content_hash: str
    code_hash: str  # of the verification code printed on the copy (documents.code_digest)
    sealed: bytes


@dataclass(frozen=True)
class Issued:
    order_id: str
    copies: tuple[IssuedCopy, ...]

    @property
    def fee(self) -> int:
        return sum(copy.fee for copy in self.copies)


def request_hash(request: IssueRequest) -> str:
    """What tells a repeated request from another one under the same order id: SHA-256 of the
    request's deterministic CBOR."""
    return hashlib.sha256(cbor.encode(request.to_json())).hexdigest()


class Issuer:
    """Issues a municipality's copies from its own database, with its own key."""

    def __init__(
        self,
        engine: sa.Engine,
        key: MunicipalKey,
        terminal_cas: Sequence[x509.Certificate],
        *,
        jpki_anchors: Sequence[x509.Certificate] = (),
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.engine = engine
        self.key = key
        self.terminal_cas = list(terminal_cas)
        self.jpki_anchors = list(jpki_anchors)
        self.clock = clock
        self._proofs_purged_at: dt.datetime | None = None  # proofs past their certificate: now and then

    def issue(self, request: IssueRequest) -> Issued:
        """The copies for ``request`` (the same ones again for the same request); raises
        :class:`~center.municipal.refusals.Refused` (its reason sealed to the terminal) or an
        :class:`IssuanceError`."""
        now = self.clock()
        terminal_key = self.terminal_key(request.terminal_id, request.terminal_certificate, now)
        holder = self.prove_holder(request.holder_proof, request.session_id, request.terminal_id, now)
        registration = self.registration(holder)
        try:
            try:
                return self._issue(request, holder, registration, terminal_key, now)
            except sa.exc.IntegrityError:
                # the same order id committed meanwhile by another request (PostgreSQL: this one
                # waited on the key): now it is a retry, or a conflict
                return self._issue(request, holder, registration, terminal_key, now)
        except Refused as refused:
            raise self.sealed(refused, request.session_id, request.terminal_id, terminal_key, now) from None

    def prove_holder(
        self, proof: HolderProof, session_id: str, terminal_id: str, now: dt.datetime
    ) -> ProvenHolder:
        """The holder the card's proof proves for this session and terminal, and the proof
        remembered: it serves this session only, :data:`PROOF_LIFETIME` from its first use.
        Anything else is :class:`UnprovenHolder`."""
        try:
            holder = prove_holder(
                proof, session_id=session_id, terminal_id=terminal_id, anchors=self.jpki_anchors, now=now
            )
        except HolderNotProven as refused:
            raise UnprovenHolder(str(refused), refused.code) from None
        accepted = schema.accepted_proofs.c
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                if self._proofs_purged_at is None or now - self._proofs_purged_at > PURGE_PROOFS_EVERY:
                    # remembered until its certificate ends: after that the proof fails on its own
                    connection.execute(schema.accepted_proofs.delete().where(accepted.kept_until < now))
                    self._proofs_purged_at = now
                known = connection.execute(
                    sa.select(accepted.session_id, accepted.terminal_id, accepted.first_at).where(
                        accepted.proof == holder.proof
                    )
                ).first()
                if known is None:
                    connection.execute(
                        schema.accepted_proofs.insert().values(
                            proof=holder.proof,
                            session_id=session_id,
                            terminal_id=terminal_id,
                            first_at=now,
                            kept_until=holder.valid_until,
                        )
                    )
                    return holder
        if (known.session_id, known.terminal_id) != (session_id, terminal_id):
            raise UnprovenHolder("this proof was accepted for another session", "proof_replayed")
        if now - known.first_at > PROOF_LIFETIME:
            raise UnprovenHolder("this proof is too old to order with", "proof_expired")
        return holder

    def registration(self, holder: ProvenHolder) -> Registration | None:
        """The usage registration (本籍地の利用登録) of a holder whose card links to nobody here
        (a renewed card's new serial is linked to it meanwhile: :func:`registration_of`); ``None``
        for a card that links to a resident, or a holder with none. Found before the issuing
        transaction, which reads it as it was found."""
        with self.engine.connect() as connection:
            if RecordStore(connection).card_link(holder.serial) is not None:
                return None
        return registration_of(Registrations(self.engine, self.clock), holder)

    def sealed(
        self,
        refused: Refused,
        session_id: str,
        terminal_id: str,
        terminal_key: ec.EllipticCurvePublicKey,
        now: dt.datetime,
    ) -> Refused:
        """``refused`` with its reason sealed to the terminal: the center relays it unread."""
        return refused.sealed_to(
            key=self.key,
            session_id=session_id,
            terminal_id=terminal_id,
            terminal_public_key=terminal_key,
            now=now,
        )

    def _issue(
        self,
        request: IssueRequest,
        holder: ProvenHolder,
        registration: Registration | None,
        terminal_key: ec.EllipticCurvePublicKey,
        now: dt.datetime,
    ) -> Issued:
        asked = request_hash(request)
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                previous = self._previous(connection, request.order_id, asked)
                if previous is not None:
                    return previous
                settings = load_settings(connection)
                if settings.municipality != self.key.municipality:
                    raise NotConfigured("the settings are another municipality's")
                eligible = check_request(
                    request, holder.serial, registration, RecordStore(connection), settings, now
                )
                connection.execute(
                    schema.issue_requests.insert().values(
                        order_id=request.order_id, request_hash=asked, received_at=now
                    )
                )
                copies = self._make(connection, request, holder, eligible, settings, terminal_key, now)
        return Issued(request.order_id, copies)

    def _previous(self, connection: sa.Connection, order_id: str, asked: str) -> Issued | None:
        requests = schema.issue_requests.c
        known = connection.execute(
            sa.select(requests.request_hash).where(requests.order_id == order_id)
        ).scalar_one_or_none()
        if known is None:
            return None
        if known == VOIDED_UNISSUED:
            raise OrderVoided("this order was voided before its request arrived")
        if known != asked:
            raise OrderConflict("this order id was used for another request")
        return Issued(order_id, _copies_of(connection, order_id))

    def _make(
        self,
        connection: sa.Connection,
        request: IssueRequest,
        holder: ProvenHolder,
        eligible: list[Eligible],
        settings: MunicipalSettings,
        terminal_key: ec.EllipticCurvePublicKey,
        now: dt.datetime,
    ) -> tuple[IssuedCopy, ...]:
        day = tokyo_day(now)
        binding = Binding(request.order_id, request.session_id, request.terminal_id, holder.certificate_hash)
        contents = [certificates.content(item, settings, day) for item in eligible]
        total = sum(item.item.copies for item in eligible)
        sequence = _take_sequence(connection, day, total)
        copies: list[IssuedCopy] = []
        history: list[dict[str, object]] = []
        for index, (item, (content, pages)) in enumerate(zip(eligible, contents, strict=True)):
            for copy in range(1, item.item.copies + 1):
                number = IssueNumber(
                    day, settings.municipality, request.terminal_id, request.printer, sequence
                )
                sequence += 1
                document = Document(
                    number,
                    item.item.certificate_type.value,
                    settings.municipality,
                    now,
                    binding,
                    pages,
                    content,
                )
                signed = sign_pages(sign(document, self.key), self.key)  # and each page's code
                sealed = seal(signed, request.terminal_id, terminal_key)
                code_hash = code_digest(signed.verification_code)
                copies.append(
                    IssuedCopy(
                        index,
                        copy,
                        number.text,
                        pages,
                        item.offer.fee,
                        document.content_hash(),
                        code_hash,
                        sealed,
                    )
                )
                history.append(
                    {
                        "issue_number": number.text,
                        "issued_at": now,
                        "order_id": request.order_id,
                        "item": index,
                        "copy": copy,
                        "session_id": request.session_id,
                        "terminal_id": request.terminal_id,
                        "store": request.store,
                        "printer": request.printer,
                        **_requester(item.holder),
                        "certificate_type": item.item.certificate_type.value,
                        "subjects": json.dumps(item.subject_ids),
                        "printed_items": json.dumps(certificates.printed_items(item), ensure_ascii=False),
                        "pages": pages,
                        "fee": item.offer.fee,
                        "content_hash": document.content_hash(),
                        "code_hash": code_hash,
                        "status": "issued",
                        "status_at": now,
                        "disposal": None,
                        "sealed": sealed,
                    }
                )
        connection.execute(schema.issuance_history.insert(), history)
        return tuple(copies)

    def terminal_key(
        self, terminal_id: str, certificate_der: bytes, now: dt.datetime
    ) -> ec.EllipticCurvePublicKey:
        """The key of ``terminal_id``'s certificate, if a trusted terminal CA issued it and it is
        valid now; else :class:`UntrustedTerminal`."""
        try:
            certificate = x509.load_der_x509_certificate(certificate_der)
        except ValueError:
            raise UntrustedTerminal("the terminal certificate is not DER") from None
        if not any(_issued_by(certificate, ca) for ca in self.terminal_cas):
            raise UntrustedTerminal("the terminal certificate is not from a trusted terminal CA")
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise UntrustedTerminal("the terminal certificate is not valid now")
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [name.value for name in names] != [terminal_id]:
            raise UntrustedTerminal("the terminal certificate is another terminal's")
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise UntrustedTerminal("the terminal key is not P-256")
        return key

    # -- what the center tells about copies afterwards -----------------------------------------

    def printed(self, order_id: str, issue_numbers: Sequence[str]) -> None:
        """The terminal printed these copies of the order (saying it twice changes nothing)."""
        history = schema.issuance_history.c
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                numbers = self._numbers(connection, order_id)
                if not set(issue_numbers) <= set(numbers):
                    raise UnknownOrder("these copies are not this order's")
                if any(numbers[number] == "voided" for number in issue_numbers):
                    raise StatusConflict("a voided copy cannot be printed")
                connection.execute(
                    schema.issuance_history.update()
                    .where(history.issue_number.in_(list(issue_numbers)), history.status == "issued")
                    .values(status="printed", status_at=self.clock())
                )

    def void(self, order_id: str, reason: str, issue_numbers: Sequence[str] | None = None) -> list[str]:
        """The order's copies are voided (廃棄), with why: ``issue_numbers`` (the others were
        printed), or every one (``None``); returns the numbers voided. A printed copy is never
        voided (it is settled; a misprint is the counter's business). An order never issued (its
        request is late, or was lost) is voided before it is: its request is refused when it
        comes, so no copy is issued that nobody voids."""
        history = schema.issuance_history.c
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                try:
                    numbers = self._numbers(connection, order_id)
                except UnknownOrder:
                    if issue_numbers:
                        raise
                    self._void_unissued(connection, order_id)
                    return []
                chosen = set(numbers) if issue_numbers is None else set(issue_numbers)
                if not chosen <= set(numbers):
                    raise UnknownOrder("these copies are not this order's")
                if any(numbers[number] == "printed" for number in chosen):
                    raise StatusConflict("a printed copy cannot be voided")
                connection.execute(
                    schema.issuance_history.update()
                    .where(history.issue_number.in_(sorted(chosen)), history.status == "issued")
                    .values(status="voided", status_at=self.clock(), disposal=reason)
                )
        return sorted(chosen)

    def _void_unissued(self, connection: sa.Connection, order_id: str) -> None:
        """The order id is taken as voided (nothing if a request holds it already: then it has copies)."""
        requests = schema.issue_requests.c
        known = connection.execute(
            sa.select(requests.request_hash).where(requests.order_id == order_id)
        ).scalar_one_or_none()
        if known is None:
            connection.execute(
                schema.issue_requests.insert().values(
                    order_id=order_id, request_hash=VOIDED_UNISSUED, received_at=self.clock()
                )
            )

    @staticmethod
    def _numbers(connection: sa.Connection, order_id: str) -> dict[str, str]:
        history = schema.issuance_history.c
        rows = connection.execute(
            sa.select(history.issue_number, history.status).where(history.order_id == order_id)
        ).all()
        if not rows:
            raise UnknownOrder("no copies for this order")
        return {row.issue_number: row.status for row in rows}


def _requester(holder: Holder) -> dict[str, object]:
    """Whose card asked, for the history: a resident here, or a holder's usage registration."""
    if isinstance(holder, RegisteredEntry):
        return {"requester_id": None, "registration_id": holder.registration_id}
    return {"requester_id": holder.id, "registration_id": None}


def _issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _take_sequence(connection: sa.Connection, day: dt.date, count: int) -> int:
    """The first of ``count`` consecutive sequence numbers of ``day`` (the day's row stays locked
    by this transaction until it commits, so numbers are never given twice)."""
    table = schema.issue_sequences
    insert = postgresql.insert(table) if connection.dialect.name == "postgresql" else sqlite.insert(table)
    statement = (
        insert.values(day=day, last=count)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + count})
        .returning(table.c.last)
    )
    last = connection.execute(statement).scalar_one()
    return int(last) - count + 1


def _copies_of(connection: sa.Connection, order_id: str) -> tuple[IssuedCopy, ...]:
    history = schema.issuance_history.c
    rows = connection.execute(
        sa.select(
            history.item,
            history.copy,
            history.issue_number,
            history.pages,
            history.fee,
            history.content_hash,
            history.code_hash,
            history.sealed,
        )
        .where(history.order_id == order_id)
        .order_by(history.item, history.copy)
    ).all()
    return tuple(
        IssuedCopy(
            row.item,
            row.copy,
            row.issue_number,
            row.pages,
            row.fee,
            row.content_hash,
            row.code_hash,
            bytes(row.sealed),
        )
        for row in rows
    )
