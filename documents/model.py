"""The certificate document (証明書データ) and its binding (紐付け) to one order at one terminal.

A :class:`Document` is what a municipality signs: the issue number, the certificate type, who
issued it and when, the binding, the page count and the structured content (names, addresses,
tables — opaque here). Its form is a map (:meth:`Document.to_map`, strict: every field present,
nothing else) whose deterministic CBOR (:meth:`Document.canonical`) is the payload the
municipality's COSE_Sign1 signs (:mod:`documents.sealing`).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, fields
from typing import Any

from documents import cbor
from documents.errors import BadIssueNumber, MalformedDocument
from documents.issue_number import IssueNumber, is_municipality_code, is_terminal_id, tokyo_day

DOCUMENT_FORMAT = "koufu-document/2"
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CERTIFICATE_TYPE = re.compile(r"[a-z_]{1,64}")


@dataclass(frozen=True)
class Binding:
    """紐付け: the order, session, terminal and card a document was issued for.

    ``holder_certificate`` is the lowercase hex SHA-256 of the DER of the resident's
    user-authentication certificate (利用者証明用電子証明書), see :meth:`holder_hash`. Ids are 1-128
    of ``A-Z a-z 0-9 . _ : -``; the terminal id is the center's (1-32 of ``A-Z 0-9 -``).
    """

    order_id: str
    session_id: str
    terminal_id: str
    holder_certificate: str

    def __post_init__(self) -> None:
        for name in ("order_id", "session_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _ID.fullmatch(value):
                raise MalformedDocument(f"the binding's {name} must be 1-128 of A-Z a-z 0-9 . _ : -")
        if not is_terminal_id(self.terminal_id):
            raise MalformedDocument("the binding's terminal_id must be 1-32 of A-Z, 0-9 and '-'")
        if not isinstance(self.holder_certificate, str) or not _SHA256_HEX.fullmatch(self.holder_certificate):
            raise MalformedDocument("the binding's holder_certificate must be 64 lowercase hex digits")

    @staticmethod
    def holder_hash(der: bytes) -> str:
        """The binding's form of a certificate: lowercase hex SHA-256 of its DER."""
        return hashlib.sha256(der).hexdigest()

    def to_map(self) -> dict[str, str]:
        return {
            "order_id": self.order_id,
            "session_id": self.session_id,
            "terminal_id": self.terminal_id,
            "holder_certificate": self.holder_certificate,
        }

    @classmethod
    def from_map(cls, value: Any) -> Binding:
        fields_ = _exact_object(value, {f.name for f in fields(cls)}, "binding")
        return cls(**fields_)


@dataclass(frozen=True)
class Document:
    """One copy of a certificate as the municipality builds it.

    - ``issue_number``: 交付番号; its municipality is ``municipality``, its terminal is the binding's,
      its day is ``issued_at``'s day in Japan (derive both from one instant).
    - ``certificate_type``: e.g. ``resident_record`` (住民票の写し); 1-64 of ``a-z`` and ``_``.
    - ``municipality``: the issuing municipality's 6-digit code.
    - ``issued_at``: an aware datetime.
    - ``pages``: 1..99.
    - ``content``: the structured content, plain values only (:func:`documents.cbor.check_plain`:
      no floats, no byte strings); kept as a private copy.

    Any invalid field raises :class:`MalformedDocument`.
    """

    issue_number: IssueNumber
    certificate_type: str
    municipality: str
    issued_at: dt.datetime
    binding: Binding
    pages: int
    content: dict[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.issue_number, IssueNumber):
            raise MalformedDocument("issue_number must be an IssueNumber")
        if not isinstance(self.binding, Binding):
            raise MalformedDocument("binding must be a Binding")
        certificate_type = self.certificate_type
        if not isinstance(certificate_type, str) or not _CERTIFICATE_TYPE.fullmatch(certificate_type):
            raise MalformedDocument("certificate_type must be 1-64 of a-z and '_'")
        if not is_municipality_code(self.municipality):
            raise MalformedDocument("municipality must be 6 digits")
        if self.issue_number.municipality != self.municipality:
            raise MalformedDocument("the issue number names another municipality")
        if self.issue_number.terminal_id != self.binding.terminal_id:
            raise MalformedDocument("the issue number names another terminal than the binding")
        if not isinstance(self.issued_at, dt.datetime) or self.issued_at.utcoffset() is None:
            raise MalformedDocument("issued_at must be an aware datetime")
        try:
            day = tokyo_day(self.issued_at)
        except (OverflowError, ValueError):
            raise MalformedDocument("issued_at is out of range") from None
        if day != self.issue_number.day:
            raise MalformedDocument("the issue number's day is not the day of issued_at in Japan")
        if type(self.pages) is not int or not 1 <= self.pages <= 99:
            raise MalformedDocument("pages must be 1..99")
        if type(self.content) is not dict:
            raise MalformedDocument("content must be a map")
        try:
            cbor.check_plain(self.content)
        except ValueError as error:
            raise MalformedDocument(f"content is not plain values: {error}") from None
        if len(cbor.encode(self.content)) > cbor.MAX_DOCUMENT_BYTES:
            raise MalformedDocument(f"content is over {cbor.MAX_DOCUMENT_BYTES} bytes")
        object.__setattr__(self, "content", copy.deepcopy(self.content))

    def to_map(self) -> dict[str, Any]:
        """The document's map, ``format`` included (``koufu-document/2``); the content is a fresh copy."""
        return {**self._fields(), "content": copy.deepcopy(self.content)}

    def _fields(self) -> dict[str, Any]:
        return {
            "format": DOCUMENT_FORMAT,
            "issue_number": self.issue_number.text,
            "certificate_type": self.certificate_type,
            "municipality": self.municipality,
            "issued_at": self.issued_at.isoformat(),
            "binding": self.binding.to_map(),
            "pages": self.pages,
            "content": self.content,
        }

    @classmethod
    def from_map(cls, value: Any) -> Document:
        """Strict inverse of :meth:`to_map`: every field, nothing else, exact types and forms."""
        names = {f.name for f in fields(cls)} | {"format"}
        data = _exact_object(value, names, "document")
        if data["format"] != DOCUMENT_FORMAT:
            raise MalformedDocument(f"the format is not {DOCUMENT_FORMAT}")
        for name in ("issue_number", "certificate_type", "municipality", "issued_at"):
            if not isinstance(data[name], str):
                raise MalformedDocument(f"{name} must be a string")
        try:
            issue_number = IssueNumber.parse(data["issue_number"])
        except BadIssueNumber as error:
            raise MalformedDocument(f"issue_number: {error.message}") from error
        return cls(
            issue_number=issue_number,
            certificate_type=data["certificate_type"],
            municipality=data["municipality"],
            issued_at=parse_moment(data["issued_at"], "issued_at"),
            binding=Binding.from_map(data["binding"]),
            pages=data["pages"],
            content=data["content"],
        )

    def canonical(self) -> bytes:
        """The bytes the municipality's COSE_Sign1 signs (its payload): deterministic CBOR of
        :meth:`to_map`."""
        return cbor.encode(self._fields())

    def content_hash(self) -> str:
        """Lowercase hex SHA-256 of :meth:`canonical` (the certificate store's key for the content)."""
        return hashlib.sha256(self.canonical()).hexdigest()


def parse_moment(text: Any, name: str) -> dt.datetime:
    """An aware datetime in exactly the form ``datetime.isoformat`` writes; MalformedDocument otherwise."""
    if not isinstance(text, str):
        raise MalformedDocument(f"{name} must be a string")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedDocument(f"{name} is not an ISO 8601 date and time") from None
    if moment.utcoffset() is None or moment.isoformat() != text:
        raise MalformedDocument(f"{name} must be an aware datetime in isoformat form")
    return moment


def _exact_object(value: Any, names: set[str], what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise MalformedDocument(f"the {what} must be a map")
    missing, unknown = names - value.keys(), value.keys() - names
    if missing or unknown:
        # field names are ours or the sender's keys; quote only the count of unknown ones
        raise MalformedDocument(f"the {what} lacks {sorted(missing)} or has {len(unknown)} unknown field(s)")
    return value
