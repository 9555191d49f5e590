"""A municipality's sealing key (封緘用の受信鍵) and its statement, signed by the municipality.

A terminal seals what only the municipality may read (a resident's application for the usage
registration of their registered domicile, 本籍地の利用登録: their 本籍 and 筆頭者) to the
municipality's own P-256 HPKE key (:mod:`documents.to_municipality`). The center hands the key
to the terminals, and relays what they seal; so the key travels inside a **statement** the
municipality signs with its Ed25519 signing key, the key terminals already trust for documents
(:mod:`documents.keys`): a center that swapped the key for its own would have to forge the
municipality's signature.

**Statement** (format ``koufu-sealing-key/1``): a COSE_Sign1 (:mod:`documents.cose`) whose
payload is the deterministic CBOR map of exactly:

- ``format``: ``koufu-sealing-key/1``;
- ``municipality``: its code, 6 digits, of one of the 47 prefectures;
- ``public_key``: a byte string, the P-256 public key as the 65-byte uncompressed point
  (``04 ‖ x ‖ y``): exactly what HPKE's DHKEM(P-256) writes as ``pkR`` (RFC 9180 §7.1.1), fixed in
  size, its curve implied, read with no ASN.1;
- ``name`` (1-40 printable characters) and ``name_en`` (1-80): as the kiosk shows the
  municipality, in Japanese and in English;
- ``prefecture``: the name of its prefecture, which must be that of the code's first two digits
  (:mod:`documents.prefectures`);
- ``not_after``: the last moment a terminal may seal to it (``datetime.isoformat`` of a UTC time).

**Verification** (:func:`verify_sealing_key`), each failure typed: the form
(:class:`MalformedDocument`), the signer — a key of the trust list, of the statement's own
municipality, valid now (:class:`UntrustedSigner`) —, the signature (:class:`BadSignature`),
then ``not_after`` (:class:`ExpiredStatement`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from documents import cbor, cose
from documents.errors import ExpiredStatement, MalformedDocument, UntrustedSigner
from documents.hpke_seal import ENC_BYTES, check_terminal_key
from documents.issue_number import is_municipality_code
from documents.keys import MunicipalKey, TrustedKey
from documents.model import parse_moment
from documents.prefectures import prefecture_of

SEALING_KEY_FORMAT = "koufu-sealing-key/1"
MAX_STATEMENT_BYTES = 1024
MAX_NAME = 40
MAX_NAME_EN = 80
_FIELDS = frozenset(("format", "municipality", "public_key", "name", "name_en", "prefecture", "not_after"))


def sealing_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """First 16 lowercase hex digits of SHA-256 of the 65-byte uncompressed point."""
    return hashlib.sha256(point_of(public_key)).hexdigest()[:16]


def point_of(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The key as the 65-byte uncompressed point."""
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class SealingKey:
    """A municipality's sealing key as a terminal knows it: read from a statement whose signer,
    signature and time passed (or made by the municipality itself)."""

    municipality: str
    public_key: ec.EllipticCurvePublicKey = field(repr=False)
    name: str
    name_en: str
    prefecture: str
    not_after: dt.datetime
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        check_terminal_key(self.public_key)
        if not is_municipality_code(self.municipality):
            raise ValueError("the municipality code must be 6 digits")
        if self.not_after.utcoffset() is None:
            raise ValueError("not_after must be aware")
        object.__setattr__(self, "key_id", sealing_key_id(self.public_key))

    @property
    def prefecture_code(self) -> str:
        """JIS X 0401: the first two digits of the municipality's code."""
        return self.municipality[:2]

    def statement(self) -> dict[str, Any]:
        """The map the municipality signs."""
        return {
            "format": SEALING_KEY_FORMAT,
            "municipality": self.municipality,
            "public_key": point_of(self.public_key),
            "name": self.name,
            "name_en": self.name_en,
            "prefecture": self.prefecture,
            "not_after": self.not_after.astimezone(dt.UTC).isoformat(),
        }


def sign_sealing_key(sealing_key: SealingKey, key: MunicipalKey) -> bytes:
    """The municipality's statement of its sealing key: the tagged COSE_Sign1's bytes.
    ``ValueError`` if ``key`` is another municipality's or a field would not be read back."""
    if key.municipality != sealing_key.municipality:
        raise ValueError("a municipality states only its own sealing key")
    statement = sealing_key.statement()
    try:
        _fields(statement)
    except MalformedDocument as error:
        raise ValueError(error.message) from None
    return cose.sign1(cbor.encode(statement), key.key_id, key.private_key).encoded()


@dataclass(frozen=True)
class StatementRead:
    """A statement's form checked, its signer and signature not yet: what the center, which
    trusts nobody's keys for the terminals, may know of it (whose it is, until when)."""

    sign1: cose.Sign1
    sealing_key: SealingKey


def read_sealing_key(data: bytes) -> StatementRead:
    """The statement's form only (:class:`MalformedDocument`); no trust decision."""
    signed = cose.read_sign1(data, max_bytes=MAX_STATEMENT_BYTES, what="sealing key statement")
    statement = cbor.decode(
        signed.payload, max_bytes=MAX_STATEMENT_BYTES, max_depth=1, what="sealing key statement"
    )
    return StatementRead(signed, _fields(statement))


def verify_sealing_key(data: bytes, trust: Mapping[str, TrustedKey], *, now: dt.datetime) -> SealingKey:
    """The sealing key, if ``data`` is a statement signed by a trusted key of its own municipality
    valid ``now``, and ``now`` is not past its ``not_after``; else a
    :class:`~documents.errors.DocumentError`."""
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    read = read_sealing_key(data)
    stated = read.sealing_key
    trusted = trust.get(read.sign1.key_id)
    if trusted is None or trusted.key_id != read.sign1.key_id:
        raise UntrustedSigner("the sealing key statement's signer is not in the trust list")
    if trusted.municipality != stated.municipality:
        raise UntrustedSigner("the sealing key statement is signed by another municipality's key")
    if not trusted.valid_at(now):
        raise UntrustedSigner("the sealing key statement's signer has expired")
    read.sign1.verify(trusted.public_key, what="sealing key statement")
    if now > stated.not_after:
        raise ExpiredStatement("the sealing key statement has expired")
    return stated


def _fields(statement: Any) -> SealingKey:
    if type(statement) is not dict or statement.keys() != _FIELDS:
        raise MalformedDocument(f"a sealing key statement is a map with exactly {sorted(_FIELDS)}")
    if statement["format"] != SEALING_KEY_FORMAT:
        raise MalformedDocument(f"the format is not {SEALING_KEY_FORMAT}")
    code, point = statement["municipality"], statement["public_key"]
    name, name_en, prefecture = statement["name"], statement["name_en"], statement["prefecture"]
    if not is_municipality_code(code):
        raise MalformedDocument("municipality: 6 digits")
    try:
        expected_prefecture = prefecture_of(code)
    except ValueError:
        raise MalformedDocument("municipality: not of one of the 47 prefectures") from None
    if type(name) is not str or not 0 < len(name) <= MAX_NAME or not name.isprintable():
        raise MalformedDocument(f"name: 1-{MAX_NAME} printable characters")
    if type(name_en) is not str or not 0 < len(name_en) <= MAX_NAME_EN or not name_en.isprintable():
        raise MalformedDocument(f"name_en: 1-{MAX_NAME_EN} printable characters")
    if prefecture != expected_prefecture:
        raise MalformedDocument("prefecture: not the prefecture of the municipality's code")
    if type(point) is not bytes or len(point) != ENC_BYTES or point[0] != 4:
        raise MalformedDocument("public_key: a 65-byte uncompressed P-256 point")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise MalformedDocument("public_key: not a point of P-256") from None
    not_after = parse_moment(statement["not_after"], "not_after")
    if not_after.utcoffset() != dt.timedelta(0):
        raise MalformedDocument("not_after: a UTC time")
    return SealingKey(code, public_key, name, name_en, prefecture, not_after)
