"""The page as issued, from its signed code alone (交付された内容の表示): drawn with the renderer
that printed it, or as label and value lines where a picture cannot be shown or drawn.

Both show what the code states: call them only for a code whose signature verified against the
published keys (a :class:`printing.verify.Verdict` whose ``claims`` are set), so that nothing is
shown that the municipality did not sign. What they return is the resident's data: it is shown to
the person who holds the paper, never logged, never put in an error message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from printing.page_code import PageClaims, SignedPageCode
from printing.render import render_page
from printing.render.layouts.register import EVENTS

__all__ = ["LABELS", "content_lines", "issued_page"]

VIEW_DPI = 150  # enough to read every line on a screen beside the uploaded image

#: The content's names in Japanese, in the order a page prints them (``printing.page_content``).
LABELS: dict[str, str] = {
    "title": "表題",
    "tax_year": "年度",
    "income_year": "所得の年",
    "domicile": "本籍",
    "head_name": "筆頭者",
    "compiled_on": "編製日",
    "address": "住所",
    "head": "世帯主",
    "persons": "世帯員",
    "members": "記載者",
    "name": "氏名",
    "name_kana": "ふりがな",
    "birth_date": "生年月日",
    "sex": "性別",
    "relationship": "続柄",
    "father": "父",
    "mother": "母",
    "became_resident_on": "住民となった日",
    "moved_in_on": "住所を定めた日",
    "my_number": "個人番号",
    "previous_address": "前住所",
    "domicile_head": "筆頭者",
    "foreign_resident": "外国人住民",
    "nationality": "国籍・地域",
    "alias": "通称",
    "residence_status": "在留資格",
    "residence_card_number": "在留カード等の番号",
    "residence_period_until": "在留期間の満了日",
    "registration_number": "登録番号",
    "impression": "印影",
    "registered_on": "登録日",
    "total_income": "総所得金額",
    "deductions": "所得控除額",
    "taxable_income": "課税標準額",
    "municipal_tax": "市町村民税",
    "prefectural_tax": "道府県民税",
    "assessed": "税額",
    "paid": "納付済額",
    "outstanding": "未納額",
    "removed": "除籍",
    "events": "身分事項",
    "kind": "事項",
    "date": "日付",
    "detail": "内容",
    "addresses": "住所の記録",
    "from": "定めた日",
    "to": "変更日",
    "body": "",  # the body's lines follow the header's without a prefix of their own
    "municipality": "市区町村",
    "prefecture": "都道府県",
    "mayor": "市区町村長",
    "certification": "認証文",
    "certified_on": "認証日",
}
#: Under ``municipality``, ``name`` is the municipality's, not a person's.
_MUNICIPALITY_NAME = "名称"
_YES, _NO, _BLANK = "はい", "いいえ", ""
#: Values the page prints in words: a 身分事項's kind (``birth`` → 出生), as the register's layout does.
_WORDS: dict[str, Mapping[str, str]] = {"kind": EVENTS}


def issued_page(code: SignedPageCode, *, dpi: int = VIEW_DPI) -> Image.Image:
    """The page as the municipality issued it, drawn by :func:`printing.render.render_page` from
    ``code``'s claims alone (its QR code is ``code``'s text): an A4 greyscale image.

    :class:`printing.render.UnrenderableDocument` if the content does not fit its layout (show
    :func:`content_lines` instead); :class:`printing.render.FontMissing` without the fonts;
    ``ValueError`` for a resolution outside 150-1200 dpi."""
    claims = code.claims
    return render_page(
        claims.content,
        certificate_type=claims.certificate_type,
        page=claims.page,
        pages=claims.pages,
        page_number=claims.printed_issue_number,
        verification_code=claims.verification_code,
        payload=code.text,
        dpi=dpi,
    )


def content_lines(claims: PageClaims) -> list[tuple[str, str]]:
    """What the page states, as (label, value) lines in Japanese, in the page's order: nested
    entries are labelled with their parents (``世帯員 2 氏名``); a name the labels do not know is
    shown as it is. Empty cells are empty values, flags はい/いいえ."""
    lines: list[tuple[str, str]] = []
    _walk(claims.content, "", "", lines)
    return lines


def _walk(value: Any, label: str, parent: str, lines: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        for key in sorted(value, key=_order):
            name = _MUNICIPALITY_NAME if parent == "municipality" and key == "name" else LABELS.get(key, key)
            item = value[key]
            if isinstance(item, str) and key in _WORDS:
                item = _WORDS[key].get(item, item)
            _walk(item, _joined(label, name), key, lines)
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            _walk(item, _joined(label, str(index)) if len(value) > 1 else label, parent, lines)
    else:
        lines.append((label, _text(value)))


def _order(key: str) -> tuple[int, str]:
    known = list(LABELS)
    return (known.index(key), "") if key in LABELS else (len(known), key)


def _joined(label: str, name: str) -> str:
    return " ".join(part for part in (label, name) if part)


def _text(value: Any) -> str:
    if value is None:
        return _BLANK
    if value is True or value is False:
        return _YES if value else _NO
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
