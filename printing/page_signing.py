"""A copy's page codes (各頁の署名付きコード): signed by its municipality at issuance, checked by the
kiosk before anything is printed.

The municipality signs the document (:func:`documents.sign`) and then each page's claims
(:func:`sign_pages`): the page's content as :func:`printing.page_content.page_contents` splits it,
with the copy's issue number, the page, the page count, the certificate type, the verification
code and the document's content hash (:class:`printing.page_code.PageClaims`). Both signatures are
made with the same key. The codes travel in the sealed document beside it
(:attr:`documents.SignedDocument.page_codes`).

The kiosk, when it opens a copy and again when it draws it, checks (:func:`check_page_codes`) that
there is one code per page, each signed by the document's own key, trusted now, and stating
exactly what that page prints from the signed document. A copy whose codes do not state its
pages is not printed: a printed code always shows the page's own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from documents import MunicipalKey, SignedDocument, TrustedKey
from printing.page_code import BadPageCode, PageClaims, read_page_code, sign_page
from printing.page_content import page_contents


class PageCodeMismatch(BadPageCode):
    """A genuine page code that does not state its page of this copy (another copy's, another
    page's, or other words)."""

    code = "page_code_mismatch"


def page_claims(signed: SignedDocument) -> list[PageClaims]:
    """What each page's code of ``signed`` states, in page order."""
    document = signed.document
    contents = page_contents(document.certificate_type, document.content)
    if len(contents) != document.pages:
        raise BadPageCode("the content makes another number of pages than the document says")
    return [PageClaims.of(signed, page, content) for page, content in enumerate(contents, start=1)]


def sign_pages(signed: SignedDocument, key: MunicipalKey) -> SignedDocument:
    """``signed`` with its page codes, signed with ``key`` (the key that signed the document)."""
    if key.key_id != signed.key_id:
        raise ValueError("the pages are signed with the document's own key")
    codes = tuple(sign_page(claims, key) for claims in page_claims(signed))
    return SignedDocument(signed.document, signed.key_id, signed.signature, codes)


def check_page_codes(
    signed: SignedDocument, trust: Mapping[str, TrustedKey], *, now: dt.datetime
) -> list[PageClaims]:
    """Each page code of ``signed`` read, verified against ``trust`` at ``now`` and compared with
    the page it belongs to; the claims, in page order.

    :class:`BadPageCode` if a code is missing or malformed, :class:`PageCodeMismatch` if one does
    not state its page, :class:`documents.UntrustedSigner` or :class:`documents.BadSignature` if
    one is not the municipality's.
    """
    expected = page_claims(signed)
    if len(signed.page_codes) != len(expected):
        raise BadPageCode("the copy does not carry one code per page")
    for page, (text, wanted) in enumerate(zip(signed.page_codes, expected, strict=True), start=1):
        code = read_page_code(text)
        if code.key_id != signed.key_id:
            raise PageCodeMismatch(f"page {page}'s code is signed by another key than the copy")
        code.verify(trust, now=now)
        if code.claims != wanted:
            raise PageCodeMismatch(f"page {page}'s code does not state page {page} of this copy")
    return expected
