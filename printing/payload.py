"""What the QR code on every printed page carries (検証用QRコード), and reading it back.

One line of text in the QR code's alphanumeric alphabet (digits, A-Z, space and ``$%*+-./:``), so
the code stays small::

    KF1:20261123/131016/T-0001/01/000042:01:02:7K3M-Q0ZD-X4AT:3F2A…:<hash>:<signature>

the format, the copy's issue number, this page and the page count, the verification code, the
signing key's id (upper-case hex), and the content hash and the municipality's Ed25519 signature
over it (RFC 4648 base32, upper case, unpadded). Anyone with the published municipal keys checks
the signature with :func:`documents.hash_signature_message`; the certificate store says whether
the copy was printed or voided and holds the same content hash. Nothing about the person is in
it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from documents import IssueNumber, OpenedDocument, parse_verification_code
from documents.errors import DocumentError

FORMAT = "KF1"
_FIELDS = 8
_KEY_ID = re.compile(r"[0-9A-F]{16}")
_BASE32 = re.compile(r"[A-Z2-7]+")
MAX_TEXT = 400  # a page's payload is about 230 characters; anything far longer is not ours


class BadPayload(DocumentError):
    """A QR code that is not a koufu page's (or is damaged): its text is not the format."""


@dataclass(frozen=True)
class PagePayload:
    issue_number: str  # the copy's, without the page
    page: int
    pages: int
    verification_code: str
    key_id: str  # lower-case hex, as in the trust list
    content_hash: bytes  # 32
    signature: bytes  # 64

    @classmethod
    def of(cls, opened: OpenedDocument, page: int) -> PagePayload:
        document = opened.document
        return cls(
            document.issue_number.text,
            page,
            document.pages,
            opened.verification_code,
            opened.key_id,
            bytes.fromhex(document.content_hash()),
            opened.signature,
        )

    def encode(self) -> str:
        return ":".join(
            (
                FORMAT,
                self.issue_number,
                f"{self.page:02d}",
                f"{self.pages:02d}",
                self.verification_code,
                self.key_id.upper(),
                _b32(self.content_hash),
                _b32(self.signature),
            )
        )

    @classmethod
    def decode(cls, text: str) -> PagePayload:
        """The payload of a QR code's text; :class:`BadPayload` for anything else."""
        if not isinstance(text, str) or len(text) > MAX_TEXT or not text.isascii():
            raise BadPayload("not a koufu page's code")
        fields = text.strip().split(":")
        if len(fields) != _FIELDS or fields[0] != FORMAT:
            raise BadPayload("not a koufu page's code")
        _format, number, page, pages, code, key_id, digest, signature = fields
        try:
            issue = IssueNumber.parse(number)
            parsed_code = parse_verification_code(code)
        except DocumentError as error:
            raise BadPayload(f"damaged code: {error}") from None
        if not (
            page.isdigit()
            and pages.isdigit()
            and len(page) == len(pages) == 2
            and 1 <= int(page) <= int(pages) <= 99
        ):
            raise BadPayload("damaged code: the page numbers")
        if not _KEY_ID.fullmatch(key_id):
            raise BadPayload("damaged code: the key id")
        content_hash, signed = _unb32(digest, 32), _unb32(signature, 64)
        return cls(issue.text, int(page), int(pages), parsed_code, key_id.lower(), content_hash, signed)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str, size: int) -> bytes:
    if not _BASE32.fullmatch(text):
        raise BadPayload("damaged code: not base32")
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except ValueError:
        raise BadPayload("damaged code: not base32") from None
    if len(data) != size:
        raise BadPayload(f"damaged code: {size} bytes expected")
    return data
