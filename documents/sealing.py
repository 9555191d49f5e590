"""Signing by the municipality, sealing to the terminal, and opening at the kiosk.

**Signature** (電子署名): the municipality signs a copy with a COSE_Sign1 (:mod:`documents.cose`,
EdDSA with its Ed25519 key) whose payload is the document's deterministic CBOR
(:meth:`~documents.model.Document.canonical`); the document's content hash is the SHA-256 of that
payload. It is the construction each printed page's code uses: one signature format.

**Sealed envelope** (``koufu-sealed/3``, 暗号化): the center relays it but cannot read it. HPKE
(RFC 9180) to the terminal's EC P-256 key, as every sealed kind is (:mod:`documents.hpke_seal`):

- header ``{"format": "koufu-sealed/3", "issue_number", "recipient"}``;
- plaintext = the deterministic CBOR map ``{"document": <the tagged COSE_Sign1's bytes>,
  "page_codes": [<text>, …]}``.

``page_codes`` are the texts of the QR codes the pages print, exactly one per page in order: each
is the page's content signed by the municipality's same key (``printing.page_code``). This layer
carries them without reading them; the kiosk checks each against the page it draws.

The envelope is at most 1 MiB. Opening accepts only deterministic bytes, so any change to a sealed
document is a refusal.

**Opening** checks, in this order: the envelope's form (:class:`MalformedDocument`), the recipient
(:class:`NotForThisTerminal`), decryption (:class:`UndecryptableDocument`), the inner form, the
signer (:class:`UntrustedSigner`), the signature (:class:`BadSignature`), the envelope's issue
number against the document's, then every binding field against the kiosk's own session
(:class:`BindingMismatch`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from documents import cbor, cose
from documents.errors import (
    BadIssueNumber,
    BadSignature,
    BindingMismatch,
    MalformedDocument,
    UntrustedSigner,
)
from documents.hpke_seal import check_terminal_key, open_envelope, read_envelope, seal_envelope
from documents.issue_number import IssueNumber, is_terminal_id
from documents.keys import KEY_ID, MunicipalKey, TrustedKey
from documents.model import Binding, Document
from documents.verification_code import verification_code

SEALED_FORMAT = "koufu-sealed/3"
MAX_SEALED_BYTES = cbor.MAX_DOCUMENT_BYTES
SIGNATURE_BYTES = cose.SIGNATURE_BYTES
BINDING_FIELDS = ("order_id", "session_id", "terminal_id", "holder_certificate")
_HEADER = ("format", "issue_number", "recipient")
_INNER = frozenset(("document", "page_codes"))
MAX_PAGE_CODE = 4096  # characters: a page code is a QR code's text, at most a few thousand
_PAGE_CODE = re.compile(r"[0-9A-Z $%*+\-./:]{1,4096}")  # the QR code's alphanumeric alphabet


@dataclass(frozen=True)
class SignedDocument:
    """A document with its municipality's signature (the COSE_Sign1's) and the signing key's id,
    and the codes its pages print: exactly one per page, or none while the pages are not signed
    yet (a copy is sealed only with all of them)."""

    document: Document
    key_id: str
    signature: bytes
    page_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.document, Document):
            raise MalformedDocument("a signed document holds a Document")
        if not isinstance(self.key_id, str) or not KEY_ID.fullmatch(self.key_id):
            raise MalformedDocument("key_id must be 16 lowercase hex digits")
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_BYTES:
            raise MalformedDocument(f"an Ed25519 signature is {SIGNATURE_BYTES} bytes")
        _check_page_codes(self.page_codes, self.document.pages)

    @property
    def verification_code(self) -> str:
        return verification_code(self.signature)

    def verify(self, trust: Mapping[str, TrustedKey], *, now: dt.datetime | None = None) -> TrustedKey:
        """Check the signer and the signature; the trusted key on success.

        The key must be in ``trust``, belong to the document's municipality, and be unexpired both at
        ``issued_at`` and at ``now`` (default: the current time; a later verifier of an archived copy
        passes ``now=document.issued_at``), so an expired key cannot sign a backdated document.
        """
        moment = _aware(now)
        key = trust.get(self.key_id)
        if key is None or key.key_id != self.key_id:
            raise UntrustedSigner("the signing key is not in the trust list")
        if key.municipality != self.document.municipality:
            raise UntrustedSigner("the signing key belongs to another municipality")
        if not (key.valid_at(self.document.issued_at) and key.valid_at(moment)):
            raise UntrustedSigner("the signing key has expired")
        self.cose().verify(key.public_key, what="document")
        return key

    def cose(self) -> cose.Sign1:
        """The COSE_Sign1 this signature is part of (its payload the document's canonical bytes)."""
        return cose.Sign1(
            self.key_id,
            cose.ALG_EDDSA,
            cose.protected_header(self.key_id),
            self.document.canonical(),
            self.signature,
        )


def sign(document: Document, key: MunicipalKey) -> SignedDocument:
    """The municipality signs one copy; ``ValueError`` if the key is another municipality's."""
    if key.municipality != document.municipality:
        raise ValueError("a municipality signs only its own documents")
    signed = cose.sign1(document.canonical(), key.key_id, key.private_key)
    return SignedDocument(document, key.key_id, signed.signature)


@dataclass(frozen=True)
class OpenedDocument:
    """What a kiosk may print: a document whose signer, signature and binding all passed."""

    document: Document
    key_id: str
    signature: bytes
    verification_code: str
    page_codes: tuple[str, ...] = ()

    @property
    def signed(self) -> SignedDocument:
        return SignedDocument(self.document, self.key_id, self.signature, self.page_codes)


def seal(
    signed: SignedDocument, recipient_terminal_id: str, recipient_public_key: ec.EllipticCurvePublicKey
) -> bytes:
    """Encrypt ``signed`` to one terminal: the envelope's bytes (deterministic CBOR).

    ``ValueError`` if the terminal id is malformed or is not the one in the document's binding, if
    the copy lacks its page codes, or if the key is not P-256; :class:`MalformedDocument` if the
    envelope would exceed 1 MiB.
    """
    if not is_terminal_id(recipient_terminal_id):
        raise ValueError("terminal ids are 1-32 of A-Z, 0-9 and '-'")
    if recipient_terminal_id != signed.document.binding.terminal_id:
        raise ValueError("a document is sealed only to the terminal it is bound to")
    if len(signed.page_codes) != signed.document.pages:
        raise ValueError("a copy is sealed with one page code per page")
    header = {
        "format": SEALED_FORMAT,
        "issue_number": signed.document.issue_number.text,
        "recipient": recipient_terminal_id,
    }
    return seal_envelope(
        sealed_plaintext(signed), header, recipient_public_key, max_bytes=MAX_SEALED_BYTES, what="document"
    )


def sealed_plaintext(signed: SignedDocument) -> bytes:
    """What a sealed copy carries: the deterministic CBOR of the signed document's COSE_Sign1
    and the page codes."""
    return cbor.encode({"document": signed.cose().encoded(), "page_codes": list(signed.page_codes)})


def open_sealed(
    sealed: bytes,
    *,
    terminal_id: str,
    terminal_key: ec.EllipticCurvePrivateKey,
    trust: Mapping[str, TrustedKey],
    expected: Binding,
    now: dt.datetime | None = None,
) -> OpenedDocument:
    """Decrypt and verify a sealed document at the kiosk, against the kiosk's own session.

    Raises only :class:`~documents.errors.DocumentError` subclasses for anything in ``sealed``
    (``ValueError`` only for a naive ``now`` or a non-P-256 ``terminal_key``, which are the caller's).
    """
    moment = _aware(now)
    check_terminal_key(terminal_key)
    envelope = read_envelope(
        sealed, format=SEALED_FORMAT, header_names=_HEADER, max_bytes=MAX_SEALED_BYTES, what="document"
    )
    try:
        issue_number = IssueNumber.parse(envelope.header["issue_number"])
    except BadIssueNumber as error:
        raise MalformedDocument(f"issue_number: {error.message}") from error
    plaintext = open_envelope(envelope, terminal_id=terminal_id, terminal_key=terminal_key, what="document")
    signed = _parse_inner(plaintext)
    signed.verify(trust, now=moment)
    if signed.document.issue_number != issue_number:
        raise MalformedDocument("the envelope's issue number is not the document's")
    for name in BINDING_FIELDS:
        actual, wanted = getattr(signed.document.binding, name), getattr(expected, name)
        if not hmac.compare_digest(actual.encode("utf-8"), wanted.encode("utf-8")):
            raise BindingMismatch(name)
    return OpenedDocument(
        signed.document, signed.key_id, signed.signature, signed.verification_code, signed.page_codes
    )


def _parse_inner(plaintext: bytes) -> SignedDocument:
    value = cbor.decode(plaintext, max_bytes=MAX_SEALED_BYTES, max_depth=2, what="sealed content")
    if type(value) is not dict or value.keys() != _INNER:
        raise MalformedDocument(f"the sealed content is a map with exactly {sorted(_INNER)}")
    if type(value["document"]) is not bytes or type(value["page_codes"]) is not list:
        raise MalformedDocument("the sealed content is a COSE_Sign1's bytes and a list of page codes")
    signed = cose.read_sign1(value["document"], max_bytes=MAX_SEALED_BYTES, what="document")
    if signed.algorithm != cose.ALG_EDDSA:
        raise BadSignature("the document is not signed with EdDSA")
    document = Document.from_map(cbor.decode(signed.payload, max_bytes=MAX_SEALED_BYTES, what="document"))
    if signed.payload != document.canonical():
        raise MalformedDocument("the document is not in canonical form")
    codes = tuple(value["page_codes"])
    if len(codes) != document.pages:
        raise MalformedDocument("a sealed copy has one page code per page")
    return SignedDocument(document, signed.key_id, signed.signature, codes)


def _check_page_codes(codes: object, pages: int) -> None:
    if type(codes) is not tuple:
        raise MalformedDocument("page_codes is a tuple")
    if len(codes) not in (0, pages):
        raise MalformedDocument("there is one page code per page, or none before the pages are signed")
    for code in codes:
        if type(code) is not str or not _PAGE_CODE.fullmatch(code):
            raise MalformedDocument(
                f"a page code is 1-{MAX_PAGE_CODE} characters of the QR code's alphanumeric alphabet"
            )


def _aware(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now
