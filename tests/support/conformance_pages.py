"""The conformance client's pages: what each page of a copy prints, the dict its page code's
claim 7 states, computed from the copy's certificate type and content by ``docs/protocol.md``
§5.8 alone. Like ``conformance_client`` it imports nothing of the project, only the standard
library (``tests/test_conformance.py`` checks both); ``tests/test_conformance_pages.py``
compares it with the project's own split on every content it can find.

:func:`page_contents` is the split; :func:`check_page_contents` compares a copy's page codes'
claim 7, page by page, with it. The section's words are the names here: a key is *required* or
*optional* and of a *kind* (text, blank, integer, boolean, a list of objects read by their own
keys); an object as a page holds it has the listed keys it has, and no other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PERSONS_A_PAGE = 4
REGISTER_MEMBERS_A_PAGE = 3
ADDRESS_LINES_A_PAGE = 12
ROWS_A_PAGE = 15


class UnfitContent(Exception):
    """The content does not make its pages (§5.8's last paragraph); ``args[0]`` names the place."""


class PageContentMismatch(Exception):
    """A page code's claim 7 is not its page's dict; ``args[0]`` is ``page_code_content``,
    ``args[1]`` the page (or ``"pages"`` when the number of pages differs)."""


# -- kinds -------------------------------------------------------------------------------------

Kind = Callable[[Any, str], Any]


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UnfitContent(f"{where}: not text")
    return value


def blank(value: Any, where: str) -> str | None:
    return None if value is None else text(value, where)


def integer(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnfitContent(f"{where}: not an integer")
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise UnfitContent(f"{where}: not a boolean")
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnfitContent(f"{where}: not an object")
    return value


def _array(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise UnfitContent(f"{where}: not a list")
    return value


@dataclass(frozen=True)
class Key:
    name: str
    kind: Kind
    required: bool


def required(name: str, kind: Kind) -> Key:
    return Key(name, kind, True)


def optional(name: str, kind: Kind) -> Key:
    return Key(name, kind, False)


def read(value: Any, keys: Sequence[Key], where: str) -> dict[str, Any]:
    """The object ``value`` as a page holds it: the listed keys it has (a required one always),
    each value read by its kind; every other key left out."""
    source = _object(value, where)
    held: dict[str, Any] = {}
    for key in keys:
        if key.name in source:
            held[key.name] = key.kind(source[key.name], f"{where}.{key.name}")
        elif key.required:
            raise UnfitContent(f"{where}.{key.name}: missing")
    return held


def list_of(keys: Sequence[Key] | Kind) -> Kind:
    """A list whose every element is an object read by ``keys`` (or by a reader of its own)."""

    def kind(value: Any, where: str) -> list[Any]:
        items = _array(value, where)
        if callable(keys):
            return [keys(item, f"{where}[{i}]") for i, item in enumerate(items)]
        return [read(item, keys, f"{where}[{i}]") for i, item in enumerate(items)]

    return kind


# -- the frame ---------------------------------------------------------------------------------

HEADER_MUNICIPALITY = (required("prefecture", text), required("name", text))
LAST_MUNICIPALITY = (*HEADER_MUNICIPALITY, required("mayor", text))


def frame(content: Mapping[str, Any], *, last: bool) -> dict[str, Any]:
    """``title`` and ``municipality`` (``mayor`` on the last page), and on the last page
    ``certification`` and ``certified_on``: every page's keys but ``body``."""
    if "municipality" not in content:
        raise UnfitContent("content.municipality: missing")
    page = {
        **read(content, (required("title", text),), "content"),
        "municipality": read(
            content["municipality"], LAST_MUNICIPALITY if last else HEADER_MUNICIPALITY, "municipality"
        ),
    }
    if last:
        page |= read(content, (required("certification", text), required("certified_on", text)), "content")
    return page


# -- resident records --------------------------------------------------------------------------

FOREIGN_RESIDENT = tuple(
    optional(name, blank)
    for name in (
        "nationality",
        "alias",
        "residence_status",
        "residence_card_number",
        "residence_period_until",
    )
)


def _foreign_resident(value: Any, where: str) -> dict[str, Any] | None:
    return None if value is None else read(value, FOREIGN_RESIDENT, where)


PERSON = (
    required("name", text),
    optional("name_kana", blank),
    required("birth_date", blank),
    required("sex", blank),
    optional("relationship", blank),
    required("became_resident_on", blank),
    required("moved_in_on", blank),
    optional("my_number", blank),
    optional("previous_address", blank),
    optional("domicile", blank),
    optional("domicile_head", blank),
    optional("foreign_resident", _foreign_resident),
)


def person(value: Any, where: str) -> dict[str, Any]:
    """A person, with §5.8's two exceptions: no ``domicile_head`` without a ``domicile`` key, no
    ``foreign_resident`` key when it is ``null``."""
    held = read(value, PERSON, where)
    if "domicile" not in held:
        held.pop("domicile_head", None)
    if "foreign_resident" in held and held["foreign_resident"] is None:
        del held["foreign_resident"]
    return held


def resident_record_bodies(body: Any) -> list[dict[str, Any]]:
    every_page = read(body, (required("address", blank), optional("head", blank)), "body")
    persons = read(body, (required("persons", list_of(person)),), "body")["persons"]
    if not persons:
        raise UnfitContent("body.persons: no person")
    return [
        {**every_page, "persons": persons[start : start + PERSONS_A_PAGE]}
        for start in range(0, len(persons), PERSONS_A_PAGE)
    ]


# -- seal registration, tax: one page ----------------------------------------------------------

SEAL = (
    required("name", text),
    optional("name_kana", blank),
    required("birth_date", blank),
    required("sex", blank),
    required("registration_number", blank),
    required("impression", text),
    required("registered_on", blank),
)
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
TAX = (
    required("tax_year", text),
    required("income_year", text),
    required("name", text),
    optional("name_kana", blank),
    required("birth_date", blank),
    *(optional(figure, integer) for figure in TAX_FIGURES),
)


def seal_bodies(body: Any) -> list[dict[str, Any]]:
    return [read(body, SEAL, "body")]


def tax_bodies(body: Any) -> list[dict[str, Any]]:
    return [read(body, TAX, "body")]


# -- family registers and their attachments ----------------------------------------------------

EVENT = (required("kind", text), required("date", text), optional("detail", text))
REGISTER_MEMBER = (
    required("name", text),
    required("birth_date", text),
    optional("father", blank),
    optional("mother", blank),
    required("relationship", text),
    optional("removed", boolean),
    optional("events", list_of(EVENT)),
)
REGISTER = (required("domicile", blank), required("head_name", blank), required("compiled_on", text))


def family_register_bodies(body: Any) -> list[dict[str, Any]]:
    every_page = read(body, REGISTER, "body")
    members = read(body, (required("members", list_of(REGISTER_MEMBER)),), "body")["members"]
    shares = [
        members[start : start + REGISTER_MEMBERS_A_PAGE]
        for start in range(0, len(members), REGISTER_MEMBERS_A_PAGE)
    ]
    return [{**every_page, "members": share} for share in shares or [[]]]


ADDRESS_LINE = (required("address", text), required("from", text), optional("to", blank))
ATTACHMENT_MEMBER = (
    required("name", text),
    optional("removed", boolean),
    required("addresses", list_of(ADDRESS_LINE)),
)


def attachment_bodies(body: Any) -> list[dict[str, Any]]:
    """§5.8's three steps: the members make rows, the rows fill the pages (15 rows, 12 lines), each
    page holds an entry for every member with a row there, with the lines placed there."""
    every_page = read(body, (optional("domicile", blank), optional("head_name", blank)), "body")
    if "domicile" not in every_page:
        every_page.pop("head_name", None)
    members = read(body, (required("members", list_of(ATTACHMENT_MEMBER)),), "body")["members"]
    # 1. the rows: (member's index, its address line or None)
    rows = [(index, line) for index, member in enumerate(members) for line in (member["addresses"] or [None])]
    # 2. onto the pages
    pages: list[list[tuple[int, dict[str, Any] | None]]] = [[]]
    for index, line in rows:
        placed = pages[-1]
        lines = sum(1 for _, held in placed if held is not None)
        if len(placed) == ROWS_A_PAGE or (line is not None and lines == ADDRESS_LINES_A_PAGE):
            pages.append([])
        pages[-1].append((index, line))
    # 3. an entry for every member with a row on the page
    bodies = []
    for placed in pages:
        entries: dict[int, dict[str, Any]] = {}
        for index, line in placed:
            if index not in entries:
                member = members[index]
                entries[index] = {
                    **{name: value for name, value in member.items() if name != "addresses"},
                    "addresses": [],
                }
            if line is not None:
                entries[index]["addresses"].append(line)
        bodies.append({**every_page, "members": list(entries.values())})
    return bodies


BODIES: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "resident_record": resident_record_bodies,
    "resident_record_entries": resident_record_bodies,
    "seal_registration": seal_bodies,
    "tax": tax_bodies,
    "family_register": family_register_bodies,
    "family_register_attachment": attachment_bodies,
}


# -- the pages ---------------------------------------------------------------------------------


def page_contents(certificate_type: str, content: Any) -> list[dict[str, Any]]:
    """Each page's dict of a ``certificate_type`` copy of ``content``, in page order;
    :class:`UnfitContent` if the content does not make its pages."""
    split = BODIES.get(certificate_type)
    if split is None:
        raise UnfitContent("certificate type: no pages")
    source = _object(content, "content")
    if "body" not in source:
        raise UnfitContent("content.body: missing")
    bodies = split(source["body"])
    return [
        {**frame(source, last=number == len(bodies)), "body": body}
        for number, body in enumerate(bodies, start=1)
    ]


def same(stated: Any, expected: Any) -> bool:
    """Equal as JSON values: objects as maps with text keys, arrays in order, ``true`` not ``1``."""
    if isinstance(expected, Mapping):
        return (
            isinstance(stated, Mapping)
            and set(stated) == set(expected)
            and all(same(stated[key], expected[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(stated, list)
            and len(stated) == len(expected)
            and all(same(a, b) for a, b in zip(stated, expected, strict=True))
        )
    return type(stated) is type(expected) and stated == expected


def check_page_contents(certificate_type: str, content: Any, stated: Sequence[Any]) -> list[dict[str, Any]]:
    """``stated`` (each page code's claim 7, in page order) against the pages of the copy's
    content; the pages, or :class:`PageContentMismatch` naming the first page that differs."""
    pages = page_contents(certificate_type, content)
    if len(stated) != len(pages):
        raise PageContentMismatch("page_code_content", "pages")
    for number, (claim, page) in enumerate(zip(stated, pages, strict=True), start=1):
        if not same(claim, page):
            raise PageContentMismatch("page_code_content", number)
    return pages
