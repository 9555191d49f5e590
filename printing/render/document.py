"""Rendering a signed document into printed pages (印刷用の画像).

:func:`render_document` checks the document again before drawing anything (defence in depth: the
kiosk checked it when it opened it, the printer checks it once more with the trust list and the
order's binding it was given), then draws each page on the copy-evident background with the
certificate type's layout, the frame, the microtext and the verification block. The same
document at the same resolution with the same fonts gives the same pixels: no randomness, no
clock, no order that depends on a dictionary's history.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping

from PIL import Image

from documents import Binding, DocumentError, OpenedDocument, TrustedKey
from documents.sealing import BINDING_FIELDS
from printing.payload import PagePayload
from printing.render.background import background
from printing.render.errors import RenderRefused, UnrenderableDocument
from printing.render.layouts import LAYOUTS, PageBody
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
    document's municipality, the signature or the printed verification code does not match, or
    the document is bound to another order than ``expected``; :class:`UnrenderableDocument` if
    the content does not fit its layout; :class:`FontMissing` without the IPAex fonts;
    ``ValueError`` for a resolution outside 150-1200 dpi.
    """
    if type(dpi) is not int or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"the resolution must be {MIN_DPI}-{MAX_DPI} dpi")
    check_again(opened, trust=trust, expected=expected, now=now)
    document = opened.document
    bodies = _bodies(opened)
    base = background(dpi)
    images = []
    for page, body in enumerate(bodies, start=1):
        facts = PageFacts(
            document.content,
            page,
            document.pages,
            document.issue_number.page(page, document.pages),
            opened.verification_code,
            PagePayload.of(opened, page).encode(),
        )
        sheet = Sheet(base, dpi)
        try:
            draw_page(sheet, facts, body)
        except _CONTENT_ERRORS as error:
            raise _unfit(error) from None
        images.append(sheet.image)
    return images


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


def _bodies(opened: OpenedDocument) -> list[PageBody]:
    document = opened.document
    layout = LAYOUTS.get(document.certificate_type)
    if layout is None:
        raise UnrenderableDocument("no layout for this certificate type")
    try:
        bodies = layout(document.content)
    except _CONTENT_ERRORS as error:
        raise _unfit(error) from None
    if len(bodies) != document.pages:
        raise UnrenderableDocument(
            f"the layout makes {len(bodies)} page(s), the document says {document.pages}"
        )
    return bodies


def _unfit(error: Exception) -> UnrenderableDocument:
    # the error's type only: its text could quote the content
    return UnrenderableDocument(f"the content does not fit its layout ({type(error).__name__})")
