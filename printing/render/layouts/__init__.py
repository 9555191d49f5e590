"""The body of each certificate (証明書の本文), by certificate type.

A layout takes the content's ``body`` and returns one drawing per page, each of which fills the
body's area of its page. The page counts are the municipality's: the layouts put as many entries
on a page as :mod:`center.municipal.certificates` counted (its constants are mirrored here and a
test holds them equal), and the renderer refuses a document whose count differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from printing.render.layouts import attachment, register, resident, seal, tax
from printing.render.layouts.common import PageBody

Layout = Callable[[Mapping[str, Any]], list[PageBody]]

LAYOUTS: dict[str, Layout] = {
    "resident_record": resident.pages,  # 住民票の写し
    "resident_record_entries": resident.pages,  # 住民票記載事項証明書
    "seal_registration": seal.pages,  # 印鑑登録証明書
    "tax": tax.pages,  # 税証明書
    "family_register": register.pages,  # 戸籍証明書
    "family_register_attachment": attachment.pages,  # 戸籍の附票の写し
}

__all__ = ["LAYOUTS", "Layout", "PageBody"]
