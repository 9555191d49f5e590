"""What the center asks of a municipality: an issuance request (交付要求) and its items.

A request carries the order it belongs to and everything a document is bound to (order, session,
terminal, the hash of the holder's certificate), the certificate serial the municipality maps to
a resident, where it will be printed, the terminal's certificate (issued by the terminal CA the
municipality trusts: the copies are sealed to its key, so the center, which relays them, cannot
read them), and one or more items: a certificate type, its options and
the number of copies. Read strictly from JSON: anything unknown or out of range is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from center.municipal.holder_proof import HolderProof
from center.municipal.settings import TaxKind
from center.municipal.strict import StrictObject
from documents import CertificateType, b64url_encode

MAX_ITEMS = 10
MAX_COPIES = 50
MAX_CERTIFICATE_BYTES = 4096
IDENTIFIER = re.compile(r"[A-Za-z0-9-]{1,40}")
TERMINAL_ID = re.compile(r"[A-Z0-9-]{1,32}")
HEX64 = re.compile(r"[0-9a-f]{64}")


class BadIssueRequest(ValueError):
    """The request is malformed; the message names the place."""


class RegisterScope(StrEnum):
    FULL = "full"  # 全部事項証明書 (戸籍謄本)
    INDIVIDUAL = "individual"  # 個人事項証明書 (戸籍抄本)


@dataclass(frozen=True)
class ResidentRecordOptions:
    """住民票の写し: whose entries and which optional fields."""

    members: tuple[int, ...] | None = None  # None: the whole household; else these residents
    head_and_relationship: bool = False  # 世帯主・続柄
    domicile: bool = False  # 本籍・筆頭者
    my_number: bool = False  # 個人番号


@dataclass(frozen=True)
class TaxOptions:
    kind: TaxKind
    tax_year: int


@dataclass(frozen=True)
class RegisterOptions:
    scope: RegisterScope


@dataclass(frozen=True)
class AttachmentOptions:
    """戸籍の附票の写し: with 本籍・筆頭者 or without."""

    domicile: bool = False


@dataclass(frozen=True)
class NoOptions:
    pass


Options = ResidentRecordOptions | TaxOptions | RegisterOptions | AttachmentOptions | NoOptions


@dataclass(frozen=True)
class IssueItem:
    certificate_type: CertificateType
    options: Options
    copies: int


@dataclass(frozen=True)
class IssueRequest:
    order_id: str
    session_id: str
    terminal_id: str
    store: str
    printer: int
    holder_proof: HolderProof  # the card's proof in this session, checked by the municipality
    terminal_certificate: bytes  # DER, from the terminal CA: the key the copies are sealed to
    items: tuple[IssueItem, ...]

    @classmethod
    def from_json(cls, document: Any) -> IssueRequest:
        fields = _Object(document, "request")
        raw_items = fields.take("items", list)
        if not 1 <= len(raw_items) <= MAX_ITEMS:
            raise BadIssueRequest(f"request.items: 1 to {MAX_ITEMS} items")
        request = cls(
            order_id=fields.matching("order_id", IDENTIFIER),
            session_id=fields.matching("session_id", IDENTIFIER),
            terminal_id=fields.matching("terminal_id", TERMINAL_ID),
            store=fields.text("store", 64),
            printer=fields.integer("printer", 1, 99),
            holder_proof=HolderProof.read(fields),
            terminal_certificate=fields.base64("terminal_certificate", MAX_CERTIFICATE_BYTES),
            items=tuple(_item(raw, f"request.items[{index}]") for index, raw in enumerate(raw_items)),
        )
        fields.done()
        return request

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "session_id": self.session_id,
            "terminal_id": self.terminal_id,
            "store": self.store,
            "printer": self.printer,
            "holder_proof": self.holder_proof.to_json(),
            "terminal_certificate": b64url_encode(self.terminal_certificate),
            "items": [
                {
                    "certificate_type": item.certificate_type.value,
                    "copies": item.copies,
                    "options": options_json(item.options),
                }
                for item in self.items
            ],
        }


def options_json(options: Options) -> dict[str, Any]:
    if isinstance(options, ResidentRecordOptions):
        return {
            "members": None if options.members is None else list(options.members),
            "head_and_relationship": options.head_and_relationship,
            "domicile": options.domicile,
            "my_number": options.my_number,
        }
    if isinstance(options, TaxOptions):
        return {"kind": options.kind.value, "tax_year": options.tax_year}
    if isinstance(options, RegisterOptions):
        return {"scope": options.scope.value}
    if isinstance(options, AttachmentOptions):
        return {"domicile": options.domicile}
    return {}


def _item(raw: Any, where: str) -> IssueItem:
    fields = _Object(raw, where)
    try:
        kind = CertificateType(fields.take("certificate_type", str))
    except ValueError:
        raise BadIssueRequest(f"{where}.certificate_type: unknown") from None
    copies = fields.integer("copies", 1, MAX_COPIES)
    options = _options(kind, _Object(fields.take("options", dict), f"{where}.options"))
    fields.done()
    return IssueItem(kind, options, copies)


def _options(kind: CertificateType, fields: _Object) -> Options:
    options: Options
    if kind in (CertificateType.RESIDENT_RECORD, CertificateType.RESIDENT_RECORD_ENTRIES):
        members = fields.take("members", (list, type(None)), default=None)
        if members is not None and (
            not members
            or len(members) > 20
            or len(set(members)) != len(members)
            or not all(type(m) is int and m > 0 for m in members)
        ):
            raise BadIssueRequest(f"{fields.where}.members: null, or 1-20 distinct resident ids")
        options = ResidentRecordOptions(
            None if members is None else tuple(members),
            fields.flag("head_and_relationship"),
            fields.flag("domicile"),
            fields.flag("my_number"),
        )
    elif kind is CertificateType.TAX:
        try:
            tax_kind = TaxKind(fields.take("kind", str))
        except ValueError:
            raise BadIssueRequest(f"{fields.where}.kind: unknown") from None
        options = TaxOptions(tax_kind, fields.integer("tax_year", 2000, 2100))
    elif kind is CertificateType.FAMILY_REGISTER:
        try:
            options = RegisterOptions(RegisterScope(fields.take("scope", str)))
        except ValueError:
            raise BadIssueRequest(f"{fields.where}.scope: full or individual") from None
    elif kind is CertificateType.FAMILY_REGISTER_ATTACHMENT:
        options = AttachmentOptions(fields.flag("domicile"))
    else:
        options = NoOptions()
    fields.done()
    return options


class _Object(StrictObject):
    def __init__(self, document: Any, where: str) -> None:
        super().__init__(document, where, BadIssueRequest)

    def flag(self, key: str) -> bool:
        return self.boolean(key, default=False)
