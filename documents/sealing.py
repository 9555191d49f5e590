"""Signing by the municipality, sealing to the terminal, and opening at the kiosk.

**Signature** (電子署名): Ed25519 by the municipality's key over
``b"koufu-document-signature/2\\n"`` + the SHA-256 of ``document.canonical()`` (its content hash).

**Sealed envelope** (``koufu-sealed/2``, 暗号化): the center relays it but cannot read it. HPKE
(RFC 9180: base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) to the terminal's EC
P-256 key, as every sealed kind is (:mod:`documents.hpke_seal`):

- header ``{"format": "koufu-sealed/2", "issue_number", "recipient"}``; HPKE's ``info`` is its
  canonical JSON (no associated data);
- plaintext = canonical JSON of ``{"document": …, "key_id": …, "signature": b64url, "page_codes": […]}``;
- the envelope is the canonical JSON of the header plus ``enc`` (65 bytes) and ``ciphertext``.

``page_codes`` are the texts of the QR codes the pages print, one per page in order (or none): each
is the page's content signed by the municipality's same key (``printing.page_code``). This layer
carries them without reading them; the kiosk checks each against the page it draws.

Binary values are unpadded base64url; the envelope is at most 1 MiB. Opening accepts only
canonical bytes, so any change to a sealed document is a refusal.

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
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from documents.basics import b64url_decode, b64url_encode
from documents.canonical import MAX_DOCUMENT_BYTES, canonical_json, parse_json
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

SIGNATURE_CONTEXT = b"koufu-document-signature/2\n"
SEALED_FORMAT = "koufu-sealed/2"
MAX_SEALED_BYTES = MAX_DOCUMENT_BYTES
SIGNATURE_BYTES = 64
BINDING_FIELDS = ("order_id", "session_id", "terminal_id", "holder_certificate")
_HEADER = ("format", "issue_number", "recipient")
_INNER = frozenset(("document", "key_id", "signature", "page_codes"))
MAX_PAGE_CODE = 4096  # characters: a page code is a QR code's text, at most a few thousand
_PAGE_CODE = re.compile(r"[0-9A-Z $%*+\-./:]{1,4096}")  # the QR code's alphanumeric alphabet


def signature_message(document: Document) -> bytes:
    """The exact bytes a municipality signs for ``document``: a context and the SHA-256 of its
    canonical form (the content hash). Signing the hash, not the whole document, lets a printed
    page carry the signature and the hash in its QR code, checkable by anyone with the published
    keys and no copy of the content (:func:`hash_signature_message`)."""
    return hash_signature_message(bytes.fromhex(document.content_hash()))


def hash_signature_message(content_hash: bytes) -> bytes:
    """What the signature covers, from a document's content hash alone (32 bytes)."""
    if len(content_hash) != 32:
        raise MalformedDocument("a content hash is 32 bytes (SHA-256)")
    return SIGNATURE_CONTEXT + content_hash


@dataclass(frozen=True)
class SignedDocument:
    """A document with its municipality's signature and the signing key's id, and the codes its
    pages print (none, or exactly one per page; see the module's docstring)."""

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
        try:
            key.public_key.verify(self.signature, signature_message(self.document))
        except InvalidSignature:
            raise BadSignature("the municipality's signature does not verify") from None
        return key


def sign(document: Document, key: MunicipalKey) -> SignedDocument:
    """The municipality signs one copy; ``ValueError`` if the key is another municipality's."""
    if key.municipality != document.municipality:
        raise ValueError("a municipality signs only its own documents")
    return SignedDocument(document, key.key_id, key.private_key.sign(signature_message(document)))


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
    """Encrypt ``signed`` to one terminal: the envelope's bytes (canonical JSON).

    ``ValueError`` if the terminal id is malformed or is not the one in the document's binding, or
    if the key is not P-256; :class:`MalformedDocument` if the envelope would exceed 1 MiB.
    """
    if not is_terminal_id(recipient_terminal_id):
        raise ValueError("terminal ids are 1-32 of A-Z, 0-9 and '-'")
    if recipient_terminal_id != signed.document.binding.terminal_id:
        raise ValueError("a document is sealed only to the terminal it is bound to")
    header = {
        "format": SEALED_FORMAT,
        "issue_number": signed.document.issue_number.text,
        "recipient": recipient_terminal_id,
    }
    return seal_envelope(
        sealed_plaintext(signed), header, recipient_public_key, max_bytes=MAX_SEALED_BYTES, what="document"
    )


def sealed_plaintext(signed: SignedDocument) -> bytes:
    """What a sealed copy carries: the canonical JSON of the document, the key id, the signature
    and the page codes."""
    return canonical_json(
        {
            "document": signed.document.to_json(),
            "key_id": signed.key_id,
            "signature": b64url_encode(signed.signature),
            "page_codes": list(signed.page_codes),
        }
    )


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
    value = parse_json(plaintext, MAX_SEALED_BYTES, canonical=True)
    if type(value) is not dict or value.keys() != _INNER:
        raise MalformedDocument(f"the sealed content is an object with exactly {sorted(_INNER)}")
    document = Document.from_json(value["document"])
    if type(value["signature"]) is not str or type(value["key_id"]) is not str:
        raise MalformedDocument("key_id and signature are strings")
    if type(value["page_codes"]) is not list:
        raise MalformedDocument("page_codes is a list")
    return SignedDocument(document, value["key_id"], _binary(value, "signature"), tuple(value["page_codes"]))


def _check_page_codes(codes: object, pages: int) -> None:
    if type(codes) is not tuple:
        raise MalformedDocument("page_codes is a tuple")
    if len(codes) not in (0, pages):
        raise MalformedDocument("there is one page code per page, or none")
    for code in codes:
        if type(code) is not str or not _PAGE_CODE.fullmatch(code):
            raise MalformedDocument(
                f"a page code is 1-{MAX_PAGE_CODE} characters of the QR code's alphanumeric alphabet"
            )


def _binary(value: dict[str, Any], name: str) -> bytes:
    try:
        return b64url_decode(value[name])
    except ValueError:
        raise MalformedDocument(f"{name} is not unpadded base64url") from None


def _aware(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now
