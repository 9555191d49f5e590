"""What each printed page carries (printing/page_content): every specimen's content split into its
pages' dicts — as many as the document's pages, the entries all there once and in order, every
printed value on some page and nothing that is not the content's, the certification on the last
page alone, the same dicts every time — the split's rules on contents made for them, unfit
contents refused, and a page drawn from its dict alone (``render_page``) giving the pixels of
that page of the whole copy.

The specimens are real: a synthetic town issues them through the municipal issuer
(``devtools.specimens``), whose page counts come from the same split.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from devtools.specimens import NAMES, Specimens, specimens
from documents import DocumentError
from printing.page_content import (
    ADDRESS_LINES_PER_PAGE,
    ATTACHMENT_ROWS_PER_PAGE,
    PERSONS_PER_PAGE,
    REGISTER_MEMBERS_PER_PAGE,
    UnfitContent,
    check_page_content,
    page_contents,
)
from printing.render import UnrenderableDocument, render_document, render_page

#: what a copy's content holds and no page prints (the path's keys, list positions left out)
NOT_PRINTED = {
    "municipality.code",  # the header names the municipality; its code is in the issue number
    "body.scope",  # a resident record's: said by the certification's wording
    "body.members.sex",  # a register member's: 続柄 says it
}
#: the last page's alone
CERTIFYING = {"certification", "certified_on", "municipality.mayor"}


@pytest.fixture(scope="module")
def town() -> Specimens:
    return specimens()


def pages_of(town: Specimens, name: str) -> list[dict[str, Any]]:
    document = town.copies[name].document
    return page_contents(document.certificate_type, document.content)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) under ``value``: the path's keys joined by dots, list positions left out."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item, path)
    else:
        yield path, value


def entries(certificate_type: str, body: Mapping[str, Any]) -> list[Any]:
    """The body's entries in order, one for each printed row or block: persons, register
    members, or an attachment's (name, removed, address) lines (a person without an address: one
    line without)."""
    if certificate_type.startswith("resident_record"):
        return list(body["persons"])
    if certificate_type == "family_register":
        return [{k: v for k, v in member.items() if k != "sex"} for member in body["members"]]
    if certificate_type == "family_register_attachment":
        return [
            (member["name"], member.get("removed"), address)
            for member in body["members"]
            for address in member["addresses"] or [None]
        ]
    return [dict(body)]  # one page: the body is the entry


# -- every specimen ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_as_many_pages_as_the_document_and_the_entries_all_there_in_order(town: Specimens, name: str) -> None:
    document = town.copies[name].document
    pages = pages_of(town, name)
    assert len(pages) == document.pages >= 1
    kind = document.certificate_type
    together = [entry for page in pages for entry in entries(kind, page["body"])]
    assert together == entries(kind, document.content["body"])
    # the parts of the body every page prints are on every page, the same
    for page in pages:
        for key, value in page["body"].items():
            if key not in ("persons", "members"):
                assert value == document.content["body"][key]
                assert all(other["body"][key] == value for other in pages)


@pytest.mark.parametrize("name", NAMES)
def test_every_printed_value_is_on_a_page_and_a_page_holds_nothing_else(town: Specimens, name: str) -> None:
    content = town.copies[name].document.content
    pages = pages_of(town, name)
    in_content = set(leaves(content))
    on_pages = {leaf for page in pages for leaf in leaves(page)}
    assert on_pages <= in_content  # no value that is not the content's, nothing renamed
    assert {(path, value) for path, value in in_content if path not in NOT_PRINTED} <= on_pages
    assert not {path for path, _ in on_pages} & NOT_PRINTED


@pytest.mark.parametrize("name", NAMES)
def test_the_last_page_alone_certifies(town: Specimens, name: str) -> None:
    pages = pages_of(town, name)
    for number, page in enumerate(pages, start=1):
        paths = {path for path, _ in leaves(page)}
        if number == len(pages):
            assert paths >= CERTIFYING
            mayor = town.copies[name].document.content["municipality"]["mayor"]
            assert page["municipality"]["mayor"] == mayor
        else:
            assert not CERTIFYING & paths
        assert {"title", "municipality.name", "municipality.prefecture"} <= paths
        check_page_content(town.copies[name].document.certificate_type, page, last=number == len(pages))


@pytest.mark.parametrize("name", NAMES)
def test_the_same_content_gives_the_same_pages_of_json_values_only(town: Specimens, name: str) -> None:
    document = town.copies[name].document
    pages = pages_of(town, name)
    again = page_contents(document.certificate_type, json.loads(json.dumps(document.content)))
    assert again == pages
    assert json.loads(json.dumps(pages, ensure_ascii=False, allow_nan=False)) == pages  # no tuples, no floats
    assert json.dumps(pages, ensure_ascii=False) == json.dumps(again, ensure_ascii=False)  # keys in order too


def test_the_pages_share_nothing_with_the_content(town: Specimens) -> None:
    document = town.copies["attachment"].document
    before = copy.deepcopy(document.content)
    pages = page_contents(document.certificate_type, document.content)
    for page in pages:
        page["municipality"]["name"] = "changed"
        page["body"]["members"][0]["addresses"].clear()
    assert document.content == before
    assert pages_of(town, "attachment")[1]["municipality"]["name"] != "changed"


# -- the split's rules -----------------------------------------------------------------------------------


def frame(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "住民票の写し",
        "municipality": {"code": "131016", "name": "千代田区", "prefecture": "東京都", "mayor": "区長　某"},
        "certified_on": "令和８年１１月２４日",
        "certification": "この写しは、…",
        "body": body,
    }


def person(number: int, **more: Any) -> dict[str, Any]:
    return {
        "name": f"住民　{number}",
        "birth_date": "平成元年１月８日",
        "sex": "女",
        "became_resident_on": "令和元年５月１日",
        "moved_in_on": "令和元年５月１日",
        "previous_address": None,
        **more,
    }


def test_a_resident_record_puts_four_persons_on_a_page_under_the_household_on_every_page() -> None:
    body = {"address": "東京都千代田区…", "head": "住民　0", "scope": "household"}
    pages = page_contents("resident_record", frame({**body, "persons": [person(n) for n in range(9)]}))
    assert PERSONS_PER_PAGE == 4
    assert [len(page["body"]["persons"]) for page in pages] == [4, 4, 1]
    assert all(page["body"]["address"] == body["address"] for page in pages)
    assert all(page["body"]["head"] == "住民　0" for page in pages)
    assert all("scope" not in page["body"] for page in pages)


def test_a_resident_record_carries_what_was_asked_and_no_more() -> None:
    persons = [
        person(1, my_number="123456789012", relationship="世帯主", domicile="東京都…", domicile_head=None),
        person(2, domicile_head="住民　1", foreign_resident=None),  # a head without a domicile is not printed
        person(3, foreign_resident={"nationality": "韓国", "alias": None, "unknown": "x"}),
    ]
    page = page_contents("resident_record", frame({"address": "…", "persons": persons}))[0]
    first, second, third = page["body"]["persons"]
    assert first["my_number"] == "123456789012"
    assert "domicile_head" in first and first["domicile_head"] is None
    assert "my_number" not in second and "domicile_head" not in second and "foreign_resident" not in second
    assert third["foreign_resident"] == {"nationality": "韓国", "alias": None}
    assert "head" not in page["body"]


def test_a_register_puts_three_persons_on_a_page_and_makes_a_page_without_any() -> None:
    member = {"name": "某", "birth_date": "…", "relationship": "長男", "sex": "男", "events": []}
    body = {"domicile": "…", "head_name": "某", "compiled_on": "…"}
    pages = page_contents("family_register", frame({**body, "members": [member] * 7}))
    assert REGISTER_MEMBERS_PER_PAGE == 3
    assert [len(page["body"]["members"]) for page in pages] == [3, 3, 1]
    assert all(page["body"]["compiled_on"] == "…" for page in pages)
    empty = page_contents("family_register", frame({**body, "members": []}))
    assert len(empty) == 1 and empty[0]["body"]["members"] == []


def address(number: int) -> dict[str, Any]:
    return {"address": f"住所{number}", "from": f"{number}日", "to": None}


def test_an_attachment_counts_address_lines_and_names_a_person_where_their_lines_begin_on_a_page() -> None:
    members = [
        {"name": "甲", "removed": False, "addresses": [address(n) for n in range(10)]},
        {"name": "乙", "removed": True, "addresses": [address(n) for n in range(10, 15)]},
        {"name": "丙", "addresses": []},
    ]
    pages = page_contents("family_register_attachment", frame({"head_name": "甲", "members": members}))
    assert ADDRESS_LINES_PER_PAGE == 12
    assert [[(m["name"], len(m["addresses"])) for m in page["body"]["members"]] for page in pages] == [
        [("甲", 10), ("乙", 2)],
        [("乙", 3), ("丙", 0)],  # 乙 again, where their lines go on
    ]
    assert pages[1]["body"]["members"][0]["removed"] is True
    assert all("head_name" not in page["body"] for page in pages)  # no 筆頭者 without the 本籍


def test_an_attachment_page_holds_no_more_rows_than_fit() -> None:
    members = [
        {"name": "甲", "addresses": [address(n) for n in range(ADDRESS_LINES_PER_PAGE)]},
        *({"name": f"乙{n}", "addresses": []} for n in range(4)),
    ]
    pages = page_contents("family_register_attachment", frame({"members": members}))
    assert ATTACHMENT_ROWS_PER_PAGE == 15
    assert [len(page["body"]["members"]) for page in pages] == [4, 1]  # 12 lines and 3 rows, then 1
    one = page_contents("family_register_attachment", frame({"members": []}))
    assert len(one) == 1 and one[0]["body"]["members"] == []


# -- unfit contents ----------------------------------------------------------------------------------------


def unfit_cases() -> list[tuple[str, str, Any]]:
    good = frame({"address": "…", "persons": [person(1)]})
    without_mayor = copy.deepcopy(good)
    del without_mayor["municipality"]["mayor"]
    tax = {"tax_year": "令和８年度", "income_year": "令和７年分", "name": "某", "birth_date": "…"}
    register = {"domicile": "…", "head_name": "…", "compiled_on": "…"}
    member = {"name": "某", "birth_date": "…", "relationship": "長男"}
    seal = {"name": "某", "birth_date": "…", "sex": "女", "registration_number": "1", "registered_on": "…"}
    undated = [{**member, "events": [{"kind": "birth"}]}]
    return [
        ("driving_licence", "certificate type", good),
        ("resident_record", "content", ["not", "a", "mapping"]),
        ("resident_record", "content.body", {k: v for k, v in good.items() if k != "body"}),
        ("resident_record", "body.persons", frame({"address": "…"})),
        ("resident_record", "body.persons", frame({"address": "…", "persons": []})),
        ("resident_record", "body.persons[0].name", frame({"address": "…", "persons": [person(1, name=7)]})),
        ("resident_record", "body.persons", frame({"address": "…", "persons": "someone"})),
        ("resident_record", "municipality.mayor", without_mayor),
        ("resident_record", "certification", {k: v for k, v in good.items() if k != "certification"}),
        ("tax", "body.paid", frame({**tax, "paid": "1000"})),
        ("tax", "body.paid", frame({**tax, "paid": True})),
        ("tax", "body.name", frame({k: v for k, v in tax.items() if k != "name"})),
        ("family_register", "members[0].removed", frame({**register, "members": [{**member, "removed": 1}]})),
        ("family_register", "members[0].events[0].date", frame({**register, "members": undated})),
        ("family_register_attachment", "members[0].addresses", frame({"members": [{"name": "某"}]})),
        ("seal_registration", "body.impression", frame({**seal, "impression": None})),
    ]


@pytest.mark.parametrize(("certificate_type", "field", "content"), unfit_cases())
def test_content_that_does_not_make_its_pages_is_refused_naming_the_field_not_its_value(
    certificate_type: str, field: str, content: Any
) -> None:
    with pytest.raises(UnfitContent) as unfit:
        page_contents(certificate_type, content)
    assert field in unfit.value.message
    assert isinstance(unfit.value, DocumentError) and unfit.value.code == "unfit_content"
    assert not any(value in unfit.value.message for value in ("someone", "1000", "7 ", "某"))


def test_a_page_that_is_not_one_page_of_its_type_is_refused(town: Specimens) -> None:
    first, last = pages_of(town, "resident_record_multi_page")
    check_page_content("resident_record", first, last=False)
    check_page_content("resident_record", last, last=True)
    more_persons = copy.deepcopy(first)
    more_persons["body"]["persons"].append(copy.deepcopy(last["body"]["persons"][0]))
    extra_key = copy.deepcopy(first)
    extra_key["body"]["persons"][0]["resident_code"] = "12345678901"
    coded = copy.deepcopy(first)
    coded["municipality"]["code"] = "131016"
    for page, is_last in (
        (first, True),  # the last page certifies
        (last, False),  # and no other does
        (more_persons, False),
        (extra_key, False),
        (coded, False),
    ):
        with pytest.raises(UnfitContent):
            check_page_content("resident_record", page, last=is_last)
    attachment = pages_of(town, "attachment")[0]
    longer = copy.deepcopy(attachment)
    longer["body"]["members"][-1]["addresses"].append(address(99))
    assert sum(len(m["addresses"]) for m in attachment["body"]["members"]) == ADDRESS_LINES_PER_PAGE
    with pytest.raises(UnfitContent):
        check_page_content("family_register_attachment", longer, last=False)


# -- a page drawn from its dict alone ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resident_record_multi_page", "attachment"])
def test_a_page_drawn_from_what_it_carries_is_that_page_of_the_copy(town: Specimens, name: str) -> None:
    opened = town.copies[name]
    document = opened.document
    whole = render_document(opened, trust=town.trust, expected=document.binding, now=town.now)
    pages = pages_of(town, name)
    assert len(whole) == len(pages) == document.pages > 1
    for number, page in enumerate(pages, start=1):
        carried = json.loads(json.dumps(page))  # as a verifier would have it, decoded from a code
        alone = render_page(
            carried,
            certificate_type=document.certificate_type,
            page=number,
            pages=document.pages,
            page_number=document.issue_number.page(number, document.pages),
            verification_code=opened.verification_code,
            payload=opened.page_codes[number - 1],
        )
        assert alone.tobytes() == whole[number - 1].tobytes(), f"page {number}"


def test_a_page_is_not_drawn_from_a_dict_that_is_not_that_page(town: Specimens) -> None:
    opened = town.copies["resident_record_multi_page"]
    document = opened.document
    first, last = pages_of(town, "resident_record_multi_page")
    facts = {
        "certificate_type": document.certificate_type,
        "pages": 2,
        "page_number": document.issue_number.page(1, 2),
        "verification_code": opened.verification_code,
        "payload": opened.page_codes[0],
    }
    for page_content, number, changes in (
        (last, 1, {}),  # the certification on the first of two pages
        (first, 2, {}),  # the last page without it
        (first, 3, {}),  # no third page
        (first, 1, {"certificate_type": "seal_registration"}),
        (first, 1, {"certificate_type": "driving_licence"}),
    ):
        with pytest.raises(UnrenderableDocument) as unfit:
            render_page(page_content, **{**facts, **changes, "page": number})  # type: ignore[arg-type]
        assert unfit.value.code == "unrenderable_document"
        assert first["body"]["address"] not in unfit.value.message
