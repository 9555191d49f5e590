"""A holder's own issuance record from one municipality (交付履歴の確認), sealed to the terminal.

After the card's proof a resident may ask where and when certificates were issued with their
card: each municipality that issues to them (their residence, their registered domicile) answers
every copy of the last twelve months from its issuance history. That is about a person, and the
center relays it, so the municipality signs it and seals it to the terminal exactly as it does an
offer (:mod:`documents.envelope`), bound to the session, the terminal and the holder's
certificate, fresh for ten minutes; the center neither reads nor keeps it.

Envelope ``koufu-issuance-record/1``; its content (``docs/protocol.md`` §5)::

    {"municipality": code, "name": str, "name_en": str, "since": ISO, "until": ISO,
     "issuances": [{"issued_at": ISO, "store": str, "terminal_id": str,
                    "certificate_type": str, "copies": int,
                    "issue_numbers": [str], "voided": [str]}]}

one row per (order, certificate type), newest first; ``copies`` is the number of its issue
numbers, ``voided`` those of them voided (廃棄). The record covers every copy issued from
``since`` to ``until`` (at most :data:`MAX_ISSUANCES` rows: the municipality moves ``since`` up to
the oldest row it keeps). Opening checks the envelope as every sealed statement, that it is the
expected municipality's, and the content strictly (:meth:`IssuanceRecord.from_content`): a
record the terminal cannot trust in every part is :class:`~documents.errors.MalformedDocument`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from documents.basics import JST, CertificateType
from documents.envelope import SealedForm, open_statement, seal_statement
from documents.errors import BadIssueNumber, MalformedDocument
from documents.issue_number import IssueNumber, is_municipality_code, is_terminal_id, tokyo_day
from documents.keys import MunicipalKey, TrustedKey

ISSUANCE_RECORD_FORMAT = "koufu-issuance-record/1"
MAX_ISSUANCE_RECORD_BYTES = 512 * 1024
MAX_ISSUANCES = 500  # rows of one record: more than one a day for a year
MAX_COPIES = 99  # of one row (an order's copies of one certificate type)
RECORD_PERIOD_MONTHS = 12
ISSUANCE_RECORD = SealedForm(
    name="issuance record",
    format=ISSUANCE_RECORD_FORMAT,
    bound_to=("holder_certificate",),
    lifetime=dt.timedelta(minutes=10),
    max_bytes=MAX_ISSUANCE_RECORD_BYTES,
)
_RECORD_FIELDS = frozenset({"municipality", "name", "name_en", "since", "until", "issuances"})
_ROW_FIELDS = frozenset(
    {"issued_at", "store", "terminal_id", "certificate_type", "copies", "issue_numbers", "voided"}
)


def year_before(moment: dt.datetime) -> dt.datetime:
    """The same instant twelve months earlier, by the calendar in Japan (29 February: the 28th)."""
    local = moment.astimezone(JST)
    try:
        earlier = local.replace(year=local.year - 1)
    except ValueError:
        earlier = local.replace(year=local.year - 1, day=28)
    return earlier.astimezone(moment.tzinfo)


@dataclass(frozen=True)
class RecordedIssuance:
    """One order's copies of one certificate type (one row of the record)."""

    issued_at: dt.datetime
    store: str  # 店舗
    terminal_id: str
    certificate_type: CertificateType
    issue_numbers: tuple[str, ...]  # 交付番号, in issue order
    voided: tuple[str, ...]  # those of them voided (廃棄)

    @property
    def copies(self) -> int:
        return len(self.issue_numbers)

    def content(self) -> dict[str, Any]:
        return {
            "issued_at": _instant(self.issued_at),
            "store": self.store,
            "terminal_id": self.terminal_id,
            "certificate_type": self.certificate_type.value,
            "copies": self.copies,
            "issue_numbers": list(self.issue_numbers),
            "voided": list(self.voided),
        }


@dataclass(frozen=True)
class IssuanceRecord:
    """Every copy one municipality issued with a holder's card from ``since`` to ``until``."""

    municipality: str
    name: str
    name_en: str
    since: dt.datetime
    until: dt.datetime
    issuances: tuple[RecordedIssuance, ...]  # newest first

    def content(self) -> dict[str, Any]:
        return {
            "municipality": self.municipality,
            "name": self.name,
            "name_en": self.name_en,
            "since": _instant(self.since),
            "until": _instant(self.until),
            "issuances": [row.content() for row in self.issuances],
        }

    @classmethod
    def from_content(cls, content: Any) -> IssuanceRecord:
        """The record a sealed statement's content states, checked in every part;
        :class:`MalformedDocument` naming the first part that is wrong."""
        if type(content) is not dict or content.keys() != _RECORD_FIELDS:
            raise MalformedDocument("an issuance record has exactly its six fields")
        municipality = content["municipality"]
        if not is_municipality_code(municipality):
            raise MalformedDocument("the record's municipality is not a 6-digit code")
        name, name_en = _text(content["name"], "name", 100), _text(content["name_en"], "name_en", 100)
        since, until = _read_instant(content["since"], "since"), _read_instant(content["until"], "until")
        if since > until:
            raise MalformedDocument("the record's period ends before it starts")
        rows = content["issuances"]
        if type(rows) is not list or len(rows) > MAX_ISSUANCES:
            raise MalformedDocument(f"issuances: a list of at most {MAX_ISSUANCES} rows")
        issuances = tuple(_read_row(row, municipality, since, until) for row in rows)
        if any(newer.issued_at < older.issued_at for newer, older in itertools.pairwise(issuances)):
            raise MalformedDocument("issuances: not newest first")
        numbers = [number for row in issuances for number in row.issue_numbers]
        if len(numbers) != len(set(numbers)):
            raise MalformedDocument("issuances: an issue number appears twice")
        return cls(municipality, name, name_en, since, until, issuances)


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(JST).isoformat()


def _read_instant(value: object, where: str) -> dt.datetime:
    if type(value) is not str or len(value) > 40:
        raise MalformedDocument(f"{where}: not a time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise MalformedDocument(f"{where}: not a time") from None
    if moment.tzinfo is None:
        raise MalformedDocument(f"{where}: a time without its offset")
    return moment


def _text(value: object, where: str, longest: int) -> str:
    if (
        type(value) is not str
        or not value.strip()
        or len(value) > longest
        or any(unicodedata.category(char)[0] == "C" for char in value)
    ):
        raise MalformedDocument(f"{where}: 1-{longest} printable characters")
    return value


def _read_row(row: object, municipality: str, since: dt.datetime, until: dt.datetime) -> RecordedIssuance:
    if type(row) is not dict or row.keys() != _ROW_FIELDS:
        raise MalformedDocument("an issuance row has exactly its seven fields")
    issued_at = _read_instant(row["issued_at"], "issued_at")
    if not since <= issued_at <= until:
        raise MalformedDocument("issued_at: outside the record's period")
    store = _text(row["store"], "store", 64)
    terminal_id = row["terminal_id"]
    if not is_terminal_id(terminal_id):
        raise MalformedDocument("terminal_id: not a terminal id")
    try:
        kind = CertificateType(row["certificate_type"])
    except ValueError:
        raise MalformedDocument("certificate_type: not a certificate type") from None
    copies, numbers, voided = row["copies"], row["issue_numbers"], row["voided"]
    if type(copies) is not int or not 1 <= copies <= MAX_COPIES:
        raise MalformedDocument(f"copies: an integer from 1 to {MAX_COPIES}")
    if type(numbers) is not list or len(numbers) != copies or len(set(numbers)) != copies:
        raise MalformedDocument("issue_numbers: one distinct issue number per copy")
    for number in numbers:
        try:
            parsed = IssueNumber.parse(number)
        except BadIssueNumber:
            raise MalformedDocument("issue_numbers: not an issue number") from None
        if (parsed.municipality, parsed.terminal_id, parsed.day) != (
            municipality,
            terminal_id,
            tokyo_day(issued_at),
        ):
            raise MalformedDocument("issue_numbers: not this municipality's, terminal's and day's")
    if type(voided) is not list or len(set(voided)) != len(voided) or not set(voided) <= set(numbers):
        raise MalformedDocument("voided: some of the row's issue numbers, each once")
    return RecordedIssuance(issued_at, store, terminal_id, kind, tuple(numbers), tuple(voided))


def seal_issuance_record(
    record: IssuanceRecord,
    *,
    key: MunicipalKey,
    session_id: str,
    terminal_id: str,
    holder_certificate: str,
    terminal_public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
) -> bytes:
    """The municipality's record for one session's card holder, signed and sealed to the terminal."""
    if record.municipality != key.municipality:
        raise ValueError("a municipality states its own issuance record only")
    return seal_statement(
        ISSUANCE_RECORD,
        record.content(),
        key=key,
        session_id=session_id,
        terminal_id=terminal_id,
        bindings={"holder_certificate": holder_certificate},
        terminal_public_key=terminal_public_key,
        now=now,
    )


def open_issuance_record(
    sealed: bytes,
    *,
    municipality: str,
    terminal_id: str,
    terminal_key: ec.EllipticCurvePrivateKey,
    trust: Mapping[str, TrustedKey],
    session_id: str,
    holder_certificate: str,
    now: dt.datetime,
) -> IssuanceRecord:
    """``municipality``'s record, if it is for this terminal, session and card, signed by a
    trusted key of that municipality (a record relayed under another's code does not open),
    fresh and well formed in every part; else a :class:`~documents.errors.DocumentError`."""
    its_keys = {key_id: key for key_id, key in trust.items() if key.municipality == municipality}
    content = open_statement(
        ISSUANCE_RECORD,
        sealed,
        terminal_id=terminal_id,
        terminal_key=terminal_key,
        trust=its_keys,
        session_id=session_id,
        bindings={"holder_certificate": holder_certificate},
        now=now,
    )
    record = IssuanceRecord.from_content(content)
    if record.municipality != municipality:
        raise MalformedDocument("the issuance record names another municipality")
    return record
