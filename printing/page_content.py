"""What each printed page carries (各頁の記載事項), as data: a certificate's content split into its
pages.

:func:`page_contents` gives one dict per page, in order: the content restricted to what that page
prints, under the content's own names.

- Every page: ``title``, and ``municipality`` with ``prefecture`` and ``name`` (the header, the
  microtext); the last page adds the ``mayor`` (who certifies), ``certification`` (認証文) and
  ``certified_on``.
- ``body``: the parts of the body every page prints (a 住民票's address and head of household,
  a 戸籍's 本籍, 筆頭者 and 編製日, a 附票's 本籍・筆頭者) and the page's share of the entries:
  ``persons`` (4 a page), a register's ``members`` (3 a page), an attachment's ``members`` each with
  the ``addresses`` printed on that page (12 address lines a page).
- Nothing the page does not print: not the municipality's code, a register member's sex, a
  resident record's scope, a 筆頭者 without its 本籍. Whether 「以下余白」 follows is the page's
  number (the last), not a field.

The municipality signs each page's dict at issuance and counts the pages with it; the renderer
draws each page from its dict alone, and so can a verifier from a page's code. The rules of the
split are here and only here. Pure data: no drawing, no fonts. Values are JSON's (text, integers,
booleans, null, lists, dicts with text keys), built afresh: nothing is shared with the content or
between pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from documents import DocumentError

PERSONS_PER_PAGE = 4  # 住民票: persons' blocks on one A4 page
REGISTER_MEMBERS_PER_PAGE = 3  # 戸籍: persons recorded, on one page (their lines closer together when long)
ADDRESS_LINES_PER_PAGE = 12  # 附票: address lines on one page
ATTACHMENT_ROWS_PER_PAGE = 15  # 附票: rows on one page, with those of persons without an address


class UnfitContent(DocumentError):
    """The content does not make pages of its certificate type: an unknown type, a missing field,
    a value of the wrong kind, a page's dict that is not one whole page. The message names the
    field, never its value."""

    code = "unfit_content"


Check = Callable[[object, str], Any]
#: a record's fields: name → (check, required)
Spec = Mapping[str, tuple[Check, bool]]
REQUIRED, OPTIONAL = True, False


def page_contents(certificate_type: str, content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What each page of a ``certificate_type`` copy of ``content`` prints, one dict a page, in
    order; :class:`UnfitContent` if the content does not make its pages."""
    split = _split_of(certificate_type)
    source = _mapping(content, "content")
    bodies = split(_field(source, "body", "content"))
    return [
        {**_frame(source, last=number == len(bodies)), "body": body}
        for number, body in enumerate(bodies, start=1)
    ]


def check_page_content(certificate_type: str, page: Mapping[str, Any], *, last: bool) -> None:
    """:class:`UnfitContent` unless ``page`` is exactly one page's dict of ``certificate_type``,
    the copy's last (``last``) or not: nothing missing, nothing more, no more entries than a page
    holds."""
    split = _split_of(certificate_type)
    source = _mapping(page, "page")
    bodies = split(_field(source, "body", "page"))
    if len(bodies) != 1 or {**_frame(source, last=last), "body": bodies[0]} != _plain(source):
        raise UnfitContent("the page's content is not one page of its certificate type")


# -- the frame every page shares ----------------------------------------------------------------------


def _frame(content: Mapping[str, Any], *, last: bool) -> dict[str, Any]:
    """The title and the municipality on every page; on the last, the certification and the mayor."""
    frame: dict[str, Any] = {
        "title": _text(_field(content, "title", "content"), "title"),
        "municipality": _pick(
            _field(content, "municipality", "content"),
            "municipality",
            _MUNICIPALITY if last else _MUNICIPALITY_HEADER,
        ),
    }
    if last:
        frame["certification"] = _text(_field(content, "certification", "content"), "certification")
        frame["certified_on"] = _text(_field(content, "certified_on", "content"), "certified_on")
    return frame


# -- checks of single values --------------------------------------------------------------------------


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise UnfitContent(f"{where} must be text")
    return value


def _blank(value: object, where: str) -> str | None:
    """Text, or null for an empty cell."""
    return None if value is None else _text(value, where)


def _number(value: object, where: str) -> int:
    if type(value) is not int:
        raise UnfitContent(f"{where} must be an integer")
    return value


def _flag(value: object, where: str) -> bool:
    if type(value) is not bool:
        raise UnfitContent(f"{where} must be true or false")
    return value


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnfitContent(f"{where} must be a mapping")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise UnfitContent(f"{where} must be a list")
    return value


def _field(source: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in source:
        raise UnfitContent(f"{where}.{key} is missing")
    return source[key]


def _pick(value: object, where: str, spec: Spec) -> dict[str, Any]:
    """The fields of ``spec`` that ``value`` has, checked; a required one missing is unfit."""
    source = _mapping(value, where)
    picked: dict[str, Any] = {}
    for key, (check, required) in spec.items():
        if key in source:
            picked[key] = check(source[key], f"{where}.{key}")
        elif required:
            raise UnfitContent(f"{where}.{key} is missing")
    return picked


def _records(spec: Spec) -> Check:
    def check(value: object, where: str) -> list[dict[str, Any]]:
        return [_pick(item, f"{where}[{index}]", spec) for index, item in enumerate(_list(value, where))]

    return check


def _plain(value: Any) -> Any:
    """``value`` with every mapping a dict and every sequence a list, to compare with a page's dict."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _chunks(items: list[dict[str, Any]], per_page: int) -> list[list[dict[str, Any]]]:
    """``items`` cut into pages of ``per_page`` (one empty page when there are none)."""
    return [items[start : start + per_page] for start in range(0, len(items), per_page)] or [[]]


_MUNICIPALITY_HEADER: Spec = {"prefecture": (_text, REQUIRED), "name": (_text, REQUIRED)}
_MUNICIPALITY: Spec = {**_MUNICIPALITY_HEADER, "mayor": (_text, REQUIRED)}


# -- 住民票の写し, 住民票記載事項証明書 ---------------------------------------------------------------

_FOREIGN_RESIDENT: Spec = {
    "nationality": (_blank, OPTIONAL),
    "alias": (_blank, OPTIONAL),
    "residence_status": (_blank, OPTIONAL),
    "residence_card_number": (_blank, OPTIONAL),
    "residence_period_until": (_blank, OPTIONAL),
}


def _foreign_resident(value: object, where: str) -> dict[str, Any] | None:
    return None if value is None else _pick(value, where, _FOREIGN_RESIDENT)


_PERSON: Spec = {
    "name": (_text, REQUIRED),
    "name_kana": (_blank, OPTIONAL),
    "birth_date": (_blank, REQUIRED),
    "sex": (_blank, REQUIRED),
    "relationship": (_blank, OPTIONAL),  # 続柄, when asked: its column is there even when empty
    "became_resident_on": (_blank, REQUIRED),
    "moved_in_on": (_blank, REQUIRED),
    "my_number": (_blank, OPTIONAL),  # 個人番号, only when asked and allowed
    "previous_address": (_blank, OPTIONAL),
    "domicile": (_blank, OPTIONAL),  # 本籍, when asked
    "domicile_head": (_blank, OPTIONAL),  # 筆頭者, printed beside the 本籍 only
    "foreign_resident": (_foreign_resident, OPTIONAL),
}
_HOUSEHOLD: Spec = {"address": (_blank, REQUIRED), "head": (_blank, OPTIONAL)}


def _person(value: object, where: str) -> dict[str, Any]:
    person = _pick(value, where, _PERSON)
    if "domicile" not in person:
        person.pop("domicile_head", None)
    if person.get("foreign_resident", {}) is None:
        del person["foreign_resident"]
    return person


def _resident_pages(body: object) -> list[dict[str, Any]]:
    common = _pick(body, "body", _HOUSEHOLD)
    listed = _list(_field(_mapping(body, "body"), "persons", "body"), "body.persons")
    if not listed:
        raise UnfitContent("body.persons is empty: a resident record names at least one person")
    persons = [_person(person, f"body.persons[{index}]") for index, person in enumerate(listed)]
    return [{**common, "persons": part} for part in _chunks(persons, PERSONS_PER_PAGE)]


# -- 印鑑登録証明書, 税証明書: one page ---------------------------------------------------------------

_SEAL: Spec = {
    "name": (_text, REQUIRED),
    "name_kana": (_blank, OPTIONAL),
    "birth_date": (_blank, REQUIRED),
    "sex": (_blank, REQUIRED),
    "registration_number": (_blank, REQUIRED),
    "impression": (_text, REQUIRED),  # 印影: the seal's characters, drawn as the seal
    "registered_on": (_blank, REQUIRED),
}
#: a tax certificate's figures in yen, those of its kind
TAX_FIGURES = (
    "total_income",
    "deductions",
    "taxable_income",
    "municipal_tax",
    "prefectural_tax",
    "assessed",
    "paid",
    "outstanding",
)
_TAX: Spec = {
    "tax_year": (_text, REQUIRED),
    "income_year": (_text, REQUIRED),
    "name": (_text, REQUIRED),
    "name_kana": (_blank, OPTIONAL),
    "birth_date": (_blank, REQUIRED),
    **{figure: (_number, OPTIONAL) for figure in TAX_FIGURES},
}


def _seal_pages(body: object) -> list[dict[str, Any]]:
    return [_pick(body, "body", _SEAL)]


def _tax_pages(body: object) -> list[dict[str, Any]]:
    return [_pick(body, "body", _TAX)]


# -- 戸籍全部事項証明書, 戸籍個人事項証明書 ---------------------------------------------------------

_EVENT: Spec = {"kind": (_text, REQUIRED), "date": (_text, REQUIRED), "detail": (_text, OPTIONAL)}
_REGISTER_MEMBER: Spec = {
    "name": (_text, REQUIRED),
    "birth_date": (_text, REQUIRED),
    "father": (_blank, OPTIONAL),
    "mother": (_blank, OPTIONAL),
    "relationship": (_text, REQUIRED),
    "removed": (_flag, OPTIONAL),  # 除籍
    "events": (_records(_EVENT), OPTIONAL),  # 身分事項
}
_REGISTER: Spec = {
    "domicile": (_blank, REQUIRED),
    "head_name": (_blank, REQUIRED),
    "compiled_on": (_text, REQUIRED),
    "members": (_records(_REGISTER_MEMBER), REQUIRED),
}


def _register_pages(body: object) -> list[dict[str, Any]]:
    register = _pick(body, "body", _REGISTER)
    members = register.pop("members")
    return [{**register, "members": part} for part in _chunks(members, REGISTER_MEMBERS_PER_PAGE)]


# -- 戸籍の附票の写し -------------------------------------------------------------------------------

_ADDRESS: Spec = {"address": (_text, REQUIRED), "from": (_text, REQUIRED), "to": (_blank, OPTIONAL)}
_ATTACHMENT_MEMBER: Spec = {
    "name": (_text, REQUIRED),
    "removed": (_flag, OPTIONAL),  # 除籍
    "addresses": (_records(_ADDRESS), REQUIRED),
}
_ATTACHMENT: Spec = {
    "domicile": (_blank, OPTIONAL),  # 本籍, when asked
    "head_name": (_blank, OPTIONAL),  # 筆頭者, printed under the 本籍 only
    "members": (_records(_ATTACHMENT_MEMBER), REQUIRED),
}


def _attachment_pages(body: object) -> list[dict[str, Any]]:
    """A page holds ``ADDRESS_LINES_PER_PAGE`` address lines and at most ``ATTACHMENT_ROWS_PER_PAGE``
    rows (a person without an address still has a row, on the page where they come). A person
    whose lines go on to the next page is there again, with the lines printed there: their name
    is printed where their lines begin on each page."""
    attachment = _pick(body, "body", _ATTACHMENT)
    members = attachment.pop("members")
    if "domicile" not in attachment:
        attachment.pop("head_name", None)
    parts: list[list[dict[str, Any]]] = [[]]
    lines = rows = 0
    for member in members:
        entry: dict[str, Any] | None = None
        for address in member["addresses"] or [None]:
            if rows == ATTACHMENT_ROWS_PER_PAGE or (address is not None and lines == ADDRESS_LINES_PER_PAGE):
                parts.append([])
                lines = rows = 0
                entry = None
            if entry is None:
                entry = {**member, "addresses": []}
                parts[-1].append(entry)
            if address is not None:
                entry["addresses"].append(address)
                lines += 1
            rows += 1
    return [{**attachment, "members": part} for part in parts]


_SPLITS: dict[str, Callable[[object], list[dict[str, Any]]]] = {
    "resident_record": _resident_pages,  # 住民票の写し
    "resident_record_entries": _resident_pages,  # 住民票記載事項証明書
    "seal_registration": _seal_pages,  # 印鑑登録証明書
    "tax": _tax_pages,  # 税証明書
    "family_register": _register_pages,  # 戸籍証明書
    "family_register_attachment": _attachment_pages,  # 戸籍の附票の写し
}
#: the certificate types whose pages this module makes
CERTIFICATE_TYPES = tuple(_SPLITS)


def _split_of(certificate_type: str) -> Callable[[object], list[dict[str, Any]]]:
    split = _SPLITS.get(certificate_type) if isinstance(certificate_type, str) else None
    if split is None:
        raise UnfitContent("no pages for this certificate type")
    return split
