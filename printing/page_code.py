"""The signed page code (署名付きページコード, ``KF2``): what one printed page states, signed by the
municipality, in the page's QR code, readable and checkable offline by anyone with the paper and
the published municipal keys.

The layers, as the EU Digital COVID Certificate (HCERT) stacks them::

    KF2:<Base45 (RFC 9285) of zlib (level 9) of a tagged COSE_Sign1 (RFC 9052) over a CWT (RFC 8392)>

**COSE_Sign1** (tag 18, always tagged), exactly as the municipality signs its documents
(:mod:`documents.cose`): protected header ``{1: -8, 4: kid}`` (alg EdDSA, the 8-byte key id),
unprotected header ``{}``, the payload, and the Ed25519 signature over the RFC 9052 §4.4
``Sig_structure`` ``["Signature1", protected, h'', payload]`` (no external data). The key is the one
that signs the documents; a page's payload (a CWT with integer keys) cannot be taken for a
document's (a map with text keys, ``format`` among them).

**The claims** (the payload, a CWT claims set), exactly these keys:

====================  =========================================================================
``1`` (iss)           the municipality code (地方公共団体コード), text, 6 digits
``6`` (iat)           the moment of issue, whole seconds since the epoch
``-65537`` (koufu     a map of this page's claims, version 1; the key is in the CWT registry's
page, private use)    private-use range (below -65536), so it can never meet a registered claim
====================  =========================================================================

and in the ``-65537`` map, exactly:

===  ======================================================================================
1    the copy's issue number (交付番号), text, copy form (``20261123/131016/T-0001/01/000042``)
2    this page, 1..pages
3    the copy's page count, 1..99
4    the certificate type (証明書の種類), text (:class:`documents.CertificateType`)
5    the verification code (検証コード) printed on the page, text, printed form
6    the document's content hash, 32 bytes (SHA-256: the certificate store's key, as today)
7    the page's content: what the page prints, a map of text keys to text, integers
     (±(2**53 - 1)), booleans, null, arrays and maps, at most :data:`MAX_CONTENT_DEPTH` deep
===  ======================================================================================

**Deterministic** (:mod:`documents.cbor`): the same claims give the same bytes. Reading requires
it: the COSE_Sign1, its protected header and its payload must each be exactly the deterministic
encoding of their values, so one page has one code.

**Bounded reading**: the text at most :data:`MAX_TEXT` characters of the QR alphanumeric alphabet,
the COSE_Sign1 at most :data:`MAX_COSE_BYTES` after decompression (a zlib bomb stops there), CBOR
nesting at most :data:`MAX_CONTENT_DEPTH` in the content, no duplicate keys, no indefinite
lengths, no tags but the outer 18. Anything else is :class:`BadPageCode`, whose messages never
quote the content.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import base45

from documents import (
    JST,
    BadSignature,
    CertificateType,
    DocumentError,
    IssueNumber,
    MalformedDocument,
    MunicipalKey,
    SignedDocument,
    TrustedKey,
    UntrustedSigner,
    cbor,
    cose,
    parse_verification_code,
    tokyo_day,
)

PREFIX = "KF2:"
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"  # the QR code's, and Base45's
#: about what a version-40 QR code holds at error level M in alphanumeric mode
MAX_TEXT = 3400
MAX_COSE_BYTES = 16 * 1024
MAX_CONTENT_DEPTH = 16
ZLIB_LEVEL = 9

CLAIM_ISS, CLAIM_IAT, CLAIM_PAGE = 1, 6, -65537
(
    PAGE_ISSUE_NUMBER,
    PAGE_PAGE,
    PAGE_PAGES,
    PAGE_CERTIFICATE_TYPE,
    PAGE_VERIFICATION_CODE,
    PAGE_CONTENT_HASH,
    PAGE_CONTENT,
) = range(1, 8)
_PAGE_KEYS = frozenset(range(1, 8))
_CLAIM_KEYS = frozenset((CLAIM_ISS, CLAIM_IAT, CLAIM_PAGE))
_MUNICIPALITY = re.compile(r"[0-9]{6}")
_CERTIFICATE_TYPES = frozenset(t.value for t in CertificateType)
# cbor2 counts the top item as depth 0: the claims map, the page map at 1, the content map at 2
_PAYLOAD_DEPTH = 1 + MAX_CONTENT_DEPTH


class BadPageCode(DocumentError):
    """A page code that is not one (damaged, foreign, too large) or claims that cannot be one.

    Its message names what is wrong, never a value from the page."""

    code = "bad_page_code"


@dataclass(frozen=True)
class PageClaims:
    """What one page's code states (ページの記載事項): every field is checked, and anything wrong is
    :class:`BadPageCode`.

    ``issued_at`` is aware and in whole seconds (the code carries seconds); its day in Japan is the
    issue number's, whose municipality is ``municipality``. ``content`` is what the page prints
    (opaque here), kept as a private copy.
    """

    issue_number: str
    page: int
    pages: int
    certificate_type: str
    municipality: str
    issued_at: dt.datetime
    verification_code: str
    content_hash: bytes = field(repr=False)
    content: dict[str, Any] = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.issue_number, str):
            raise BadPageCode("the issue number is text")
        try:
            issue = IssueNumber.parse(self.issue_number)
        except DocumentError:
            raise BadPageCode("the issue number is not in its copy form") from None
        if type(self.pages) is not int or not 1 <= self.pages <= 99:
            raise BadPageCode("the page count is 1..99")
        if type(self.page) is not int or not 1 <= self.page <= self.pages:
            raise BadPageCode("the page is 1..the page count")
        if not isinstance(self.certificate_type, str) or self.certificate_type not in _CERTIFICATE_TYPES:
            raise BadPageCode("not a certificate type")
        if not isinstance(self.municipality, str) or not _MUNICIPALITY.fullmatch(self.municipality):
            raise BadPageCode("the municipality code is 6 digits")
        if issue.municipality != self.municipality:
            raise BadPageCode("the issue number names another municipality")
        moment = self.issued_at
        if not isinstance(moment, dt.datetime) or moment.utcoffset() is None or moment.microsecond:
            raise BadPageCode("the moment of issue is an aware datetime in whole seconds")
        if tokyo_day(moment) != issue.day:
            raise BadPageCode("the issue number's day is not the day of issue in Japan")
        try:
            printed = parse_verification_code(self.verification_code)
        except DocumentError:
            raise BadPageCode("not a verification code") from None
        if printed != self.verification_code:
            raise BadPageCode("the verification code is not in its printed form")
        if type(self.content_hash) is not bytes or len(self.content_hash) != 32:
            raise BadPageCode("the content hash is 32 bytes")
        if type(self.content) is not dict:
            raise BadPageCode("the page's content is a map")
        try:
            cbor.check_plain(self.content, max_depth=MAX_CONTENT_DEPTH)
        except ValueError as error:
            raise BadPageCode(f"the page's content: {error}") from None
        object.__setattr__(self, "content", copy.deepcopy(self.content))

    @property
    def printed_issue_number(self) -> str:
        """The issue number as this page prints it, with the page: ``…/000042/01``."""
        return IssueNumber.parse(self.issue_number).page(self.page, self.pages)

    @classmethod
    def of(cls, signed: SignedDocument, page: int, content: dict[str, Any]) -> PageClaims:
        """The claims of page ``page`` of a signed copy, whose page prints ``content``. The
        moment of issue is taken to the second below."""
        document = signed.document
        return cls(
            issue_number=document.issue_number.text,
            page=page,
            pages=document.pages,
            certificate_type=document.certificate_type,
            municipality=document.municipality,
            issued_at=document.issued_at.replace(microsecond=0),
            verification_code=signed.verification_code,
            content_hash=bytes.fromhex(document.content_hash()),
            content=content,
        )

    def to_cbor(self) -> dict[int, Any]:
        """The CWT claims set (see the module's table)."""
        return {
            CLAIM_ISS: self.municipality,
            CLAIM_IAT: int(self.issued_at.timestamp()),
            CLAIM_PAGE: {
                PAGE_ISSUE_NUMBER: self.issue_number,
                PAGE_PAGE: self.page,
                PAGE_PAGES: self.pages,
                PAGE_CERTIFICATE_TYPE: self.certificate_type,
                PAGE_VERIFICATION_CODE: self.verification_code,
                PAGE_CONTENT_HASH: self.content_hash,
                PAGE_CONTENT: self.content,
            },
        }

    @classmethod
    def from_cbor(cls, value: Any) -> PageClaims:
        """Strict inverse of :meth:`to_cbor`: exactly its keys, exact types."""
        claims = _exact_map(value, _CLAIM_KEYS, "the claims")
        iat = claims[CLAIM_IAT]
        if type(iat) is not int or not 0 <= iat <= cbor.MAX_SAFE_INTEGER:
            raise BadPageCode("iat is whole seconds since the epoch")
        try:
            issued_at = dt.datetime.fromtimestamp(iat, JST)
        except (OverflowError, OSError, ValueError):
            raise BadPageCode("iat is out of range") from None
        page = _exact_map(claims[CLAIM_PAGE], _PAGE_KEYS, "the page's claims")
        return cls(
            issue_number=page[PAGE_ISSUE_NUMBER],
            page=page[PAGE_PAGE],
            pages=page[PAGE_PAGES],
            certificate_type=page[PAGE_CERTIFICATE_TYPE],
            municipality=claims[CLAIM_ISS],
            issued_at=issued_at,
            verification_code=page[PAGE_VERIFICATION_CODE],
            content_hash=page[PAGE_CONTENT_HASH],
            content=page[PAGE_CONTENT],
        )


@dataclass(frozen=True)
class SignedPageCode:
    """A page code as read (:func:`read_page_code`): its claims and signer, not yet trusted.

    ``key_id`` is lower-case hex as in the trust list; ``algorithm`` is the protected header's
    COSE alg; ``cose`` the COSE_Sign1's bytes as they were in the code; ``text`` the code's text as
    read (``KF2:…``), what the page printed in its QR code."""

    claims: PageClaims
    key_id: str
    algorithm: int
    cose: bytes = field(repr=False)
    protected: bytes = field(repr=False)
    payload: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    text: str = field(repr=False)

    def verify(self, trust: Mapping[str, TrustedKey], *, now: dt.datetime | None = None) -> TrustedKey:
        """Check the signer and the signature, as :meth:`documents.SignedDocument.verify` does; the
        trusted key on success.

        The code must be signed with EdDSA; the key must be in ``trust``, belong to the
        municipality of ``iss`` and of the issue number, and be unexpired both at the moment of
        issue and at ``now`` (default: the current time). :class:`~documents.UntrustedSigner` or
        :class:`~documents.BadSignature` otherwise; ``ValueError`` for a naive ``now``.
        """
        moment = _aware(now)
        if self.algorithm != cose.ALG_EDDSA:
            raise BadSignature("the page code is not signed with EdDSA")
        key = trust.get(self.key_id)
        if key is None or key.key_id != self.key_id:
            raise UntrustedSigner("the signing key is not in the trust list")
        claims = self.claims
        issue_municipality = IssueNumber.parse(claims.issue_number).municipality
        if key.municipality != claims.municipality or key.municipality != issue_municipality:
            raise UntrustedSigner("the signing key belongs to another municipality")
        if not (key.valid_at(claims.issued_at) and key.valid_at(moment)):
            raise UntrustedSigner("the signing key has expired")
        cose.Sign1(self.key_id, self.algorithm, self.protected, self.payload, self.signature).verify(
            key.public_key, what="page"
        )
        return key


def sign_page(claims: PageClaims, key: MunicipalKey) -> str:
    """The municipality signs one page's claims: the QR code's text (``KF2:…``).

    ``ValueError`` if the key is another municipality's; :class:`BadPageCode` if the page's content
    is too large for a code."""
    if not isinstance(claims, PageClaims):
        raise TypeError("sign_page signs PageClaims")
    if key.municipality != claims.municipality:
        raise ValueError("a municipality signs only its own pages")
    signed = cose.sign1(cbor.encode(claims.to_cbor()), key.key_id, key.private_key).encoded()
    if len(signed) > MAX_COSE_BYTES:
        raise BadPageCode("the page's content is too large for a page code")
    encoded: bytes = base45.b45encode(zlib.compress(signed, ZLIB_LEVEL))
    text = PREFIX + encoded.decode("ascii")
    if len(text) > MAX_TEXT:
        raise BadPageCode("the page's content is too large for a page code")
    return text


def read_page_code(text: str) -> SignedPageCode:
    """A page code's text as read from the QR code: decoded and checked for form, no trust decision
    (:meth:`SignedPageCode.verify` makes it). :class:`BadPageCode` for anything else."""
    if not isinstance(text, str) or len(text) > MAX_TEXT or not text.startswith(PREFIX):
        raise BadPageCode("not a koufu page code")
    body = text[len(PREFIX) :]
    if not body or any(c not in ALPHANUMERIC for c in body):
        raise BadPageCode("damaged page code: not Base45")
    try:
        compressed: bytes = base45.b45decode(body)
    except ValueError:
        raise BadPageCode("damaged page code: not Base45") from None
    data = _inflate(compressed)
    try:
        signed = cose.read_sign1(data, max_bytes=MAX_COSE_BYTES, what="code")
        claims_value = cbor.decode(
            signed.payload, max_bytes=MAX_COSE_BYTES, max_depth=_PAYLOAD_DEPTH, what="claims"
        )
    except MalformedDocument as error:
        raise BadPageCode(f"damaged page code: {error.message}") from None
    claims = PageClaims.from_cbor(claims_value)
    return SignedPageCode(
        claims,
        signed.key_id,
        signed.algorithm,
        data,
        signed.protected,
        signed.payload,
        signed.signature,
        text,
    )


def _inflate(compressed: bytes) -> bytes:
    """The zlib stream's bytes, at most MAX_COSE_BYTES of them, the whole stream and nothing after."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_COSE_BYTES + 1)
    except zlib.error:
        raise BadPageCode("damaged page code: not zlib") from None
    if len(data) > MAX_COSE_BYTES or inflater.unconsumed_tail:
        raise BadPageCode(f"page code over {MAX_COSE_BYTES} bytes when decompressed")
    if not inflater.eof or inflater.unused_data:
        raise BadPageCode("damaged page code: the zlib stream is cut short or followed by more")
    return data


def _exact_map(value: Any, keys: frozenset[int], what: str) -> dict[int, Any]:
    if type(value) is not dict:
        raise BadPageCode(f"{what} are a map")
    if value.keys() != keys:
        missing = len(keys - value.keys())
        unknown = len(value.keys() - keys)
        raise BadPageCode(f"{what} lack {missing} or have {unknown} unknown claim(s)")
    return value


def _aware(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now
