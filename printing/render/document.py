"""Rendering a signed document into printed pages (印刷用の画像).

:func:`render_document` checks the document again before drawing anything (defence in depth: the
kiosk checked it when it opened it, the printer checks it once more with the trust list and the
order's binding it was given), splits its content into what each page carries
(:func:`printing.page_content.page_contents`), then draws each page from its own content alone
with :func:`render_page`: on the copy-evident background, the certificate type's layout, the
frame, the microtext and the verification block. :func:`render_page` is also how a page is shown
as issued from what it carries (a verifier's view). The same document at the same resolution
with the same fonts gives the same pixels: no randomness, no clock, no order that depends on a
dictionary's history.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping
from typing import Any

from PIL import Image

from documents import Binding, DocumentError, OpenedDocument, TrustedKey
from documents.sealing import BINDING_FIELDS
from printing.page_content import UnfitContent, check_page_content, page_contents
from printing.page_signing import check_page_codes
from printing.render.background import background
from printing.render.errors import RenderRefused, UnrenderableDocument
from printing.render.page import PageFacts, draw_page
from printing.render.sheet import Sheet

DEFAULT_DPI = 300
MIN_DPI, MAX_DPI = 150, 1200
#: what a damaged content raises while it is read (a missing field, a number where text should be…)
_CONTENT_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def render_document(
    opened: OpenedDocument,
    *,
    trust: Mapping[str, TrustedKey],
    expected: Binding,
    now: dt.datetime,
    dpi: int = DEFAULT_DPI,
) -> list[Image.Image]:
    """The pages of ``opened`` as A4 greyscale images (mode ``L``) at ``dpi`` (300; 600 works too).

    Raises :class:`RenderRefused` (nothing drawn) if the signer is not trusted at ``now`` for the
    document's municipality, the signature or the printed verification code does not match, the
    document is bound to another order than ``expected``, or its page codes
    (:func:`printing.page_signing.check_page_codes`) do not state its pages; :class:`UnrenderableDocument` if
    the content does not fit its layout; :class:`FontMissing` without the IPAex fonts;
    ``ValueError`` for a resolution outside 150-1200 dpi.
    """
    _check_dpi(dpi)
    check_again(opened, trust=trust, expected=expected, now=now)
    document = opened.document
    contents = _page_contents(opened)
    try:
        check_page_codes(opened.signed, trust, now=now)
    except DocumentError as error:
        raise RenderRefused(error.code, error.message) from error
    return [
        render_page(
            content,
            certificate_type=document.certificate_type,
            page=page,
            pages=document.pages,
            page_number=document.issue_number.page(page, document.pages),
            verification_code=opened.verification_code,
            payload=opened.page_codes[page - 1],
            dpi=dpi,
        )
        for page, content in enumerate(contents, start=1)
    ]


def render_page(
    page_content: Mapping[str, Any],
    *,
    certificate_type: str,
    page: int,
    pages: int,
    page_number: str,
    verification_code: str,
    payload: str,
    dpi: int = DEFAULT_DPI,
) -> Image.Image:
    """Page ``page`` of ``pages`` drawn from what it carries alone, an A4 greyscale image.

    ``page_content`` is that page's dict of :func:`printing.page_content.page_contents` (the
    certification and the mayor on the last page only); ``page_number`` the page's issue number
    (交付番号, ``IssueNumber.page``), ``verification_code`` the copy's 検証コード and ``payload``
    the text of the page's QR code, as printed in its verification block. Nothing here checks a
    signature: the caller has (:func:`render_document`, or a verifier with the page's code).

    Raises :class:`UnrenderableDocument` when ``page_content`` is not exactly one page of
    ``certificate_type`` (a missing or unknown field, more entries than a page holds, the
    certification on another page than the last) or the page is not one of ``pages``;
    :class:`FontMissing` without the IPAex fonts; ``ValueError`` for a resolution outside
    150-1200 dpi.
    """
    _check_dpi(dpi)
    if type(page) is not int or type(pages) is not int or not 1 <= page <= pages:
        raise UnrenderableDocument("the page is not one of the copy's pages")
    try:
        check_page_content(certificate_type, page_content, last=page == pages)
    except UnfitContent as error:
        raise UnrenderableDocument(f"the content does not fit its layout: {error.message}") from None
    facts = PageFacts(certificate_type, page_content, page, pages, page_number, verification_code, payload)
    sheet = Sheet(background(dpi), dpi)
    try:
        draw_page(sheet, facts)
    except _CONTENT_ERRORS as error:
        raise _unfit(error) from None
    return sheet.image


def check_again(
    opened: OpenedDocument, *, trust: Mapping[str, TrustedKey], expected: Binding, now: dt.datetime
) -> None:
    """The signer, the signature, the printed verification code and the binding, once more;
    :class:`RenderRefused` naming the failed check otherwise."""
    try:
        opened.signed.verify(trust, now=now)
    except DocumentError as error:
        raise RenderRefused(error.code, error.message) from error
    if not hmac.compare_digest(opened.verification_code, opened.signed.verification_code):
        raise RenderRefused("bad_verification_code", "the verification code is not the signature's")
    binding = opened.document.binding
    for name in BINDING_FIELDS:
        actual, wanted = getattr(binding, name), getattr(expected, name)
        if not hmac.compare_digest(actual.encode("utf-8"), wanted.encode("utf-8")):
            raise RenderRefused("binding_mismatch", f"the document's {name} is not this order's", field=name)


def _check_dpi(dpi: int) -> None:
    if type(dpi) is not int or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"the resolution must be {MIN_DPI}-{MAX_DPI} dpi")


def _page_contents(opened: OpenedDocument) -> list[dict[str, Any]]:
    document = opened.document
    try:
        contents = page_contents(document.certificate_type, document.content)
    except UnfitContent as error:
        raise UnrenderableDocument(f"the content does not fit its layout: {error.message}") from None
    if len(contents) != document.pages:
        raise UnrenderableDocument(
            f"the layout makes {len(contents)} page(s), the document says {document.pages}"
        )
    return contents


def _unfit(error: Exception) -> UnrenderableDocument:
    # the error's type only: its text could quote the content
    return UnrenderableDocument(f"the content does not fit its layout ({type(error).__name__})")
