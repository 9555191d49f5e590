"""The body of each certificate (証明書の本文), by certificate type.

A layout draws the body of ONE page from that page's content alone (its dict from
:func:`printing.page_content.page_contents`: which entries go on which page is decided there,
once, for the municipality and the renderer alike) into the body's area of the page; ``last``
says it is the copy's last page, where 「以下余白」 follows the entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from printing.render.layouts import attachment, register, resident, seal, tax
from printing.render.sheet import Box, Sheet

#: draws one page's body: (the page's content, the sheet, the body's area, the last page or not)
Layout = Callable[[Mapping[str, Any], Sheet, Box, bool], None]

LAYOUTS: dict[str, Layout] = {
    "resident_record": resident.draw,  # 住民票の写し
    "resident_record_entries": resident.draw,  # 住民票記載事項証明書
    "seal_registration": seal.draw,  # 印鑑登録証明書
    "tax": tax.draw,  # 税証明書
    "family_register": register.draw,  # 戸籍証明書
    "family_register_attachment": attachment.draw,  # 戸籍の附票の写し
}

__all__ = ["LAYOUTS", "Layout"]
