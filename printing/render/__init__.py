"""Rendering a signed certificate into printed pages (証明書の印刷画像): A4 greyscale images with
the municipality's layout per certificate type, a copy-evident background (複写防止地紋), a
microtext frame and, on every page, a QR code with the page's signed payload and the
verification code. Pillow draws, segno makes the QR code; see ``docs/printing.md``.

The printer calls :func:`render_document`; it checks the document again and draws nothing for a
document that fails (:class:`RenderRefused`). :func:`render_page` draws one page from what it
carries alone (:mod:`printing.page_content`).
"""

from printing.render.document import DEFAULT_DPI, check_again, render_document, render_page
from printing.render.errors import FontMissing, RenderError, RenderRefused, UnrenderableDocument

__all__ = [
    "DEFAULT_DPI",
    "FontMissing",
    "RenderError",
    "RenderRefused",
    "UnrenderableDocument",
    "check_again",
    "render_document",
    "render_page",
]
