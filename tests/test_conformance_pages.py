"""The conformance client's pages (``support/conformance_pages.py``, written from
``docs/protocol.md`` §5.8 alone) against the project's split (``printing.page_content``): the same
dicts, key for key and type for type, for every specimen copy, the vector document, contents made
at the page boundaries, contents drawn at random, and the same contents refused; the section's own
example; and the client's check of a copy's claim 7 failing where it should.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.specimens import NAMES, Specimens, specimens
from printing.page_content import UnfitContent, page_contents
from support import conformance_pages as cp
from support.sample_documents import make_document

VECTORS = Path(__file__).resolve().parent / "vectors"
KOUFU_PAGE = -65537


def as_json(value: Any) -> str:
    """One text for equal JSON values, and only for them (``true`` is not ``1``, a list not a map)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def split(certificate_type: str, content: Any) -> list[dict[str, Any]]:
    """The client's pages of ``content``, after checking they are the project's."""
    ours = cp.page_contents(certificate_type, content)
    assert as_json(ours) == as_json(page_contents(certificate_type, content))
    return ours


@pytest.fixture(scope="module")
def town() -> Specimens:
    return specimens()


# -- real contents -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_specimen_makes_the_project_s_pages(town: Specimens, name: str) -> None:
    document = town.copies[name].document
    content = json.loads(json.dumps(document.content))  # as the client has it, from JSON
    assert len(split(document.certificate_type, content)) == document.pages


def test_the_specimens_have_long_copies_and_a_member_continued_on_the_next_page(town: Specimens) -> None:
    """The comparison above covers what §5.8 was rewritten for."""
    pages = {name: town.copies[name].document.pages for name in NAMES}
    assert pages["resident_record_multi_page"] > 1 and pages["family_register_full"] > 1
    document = town.copies["attachment"].document
    first, second = cp.page_contents(document.certificate_type, document.content)
    continued = first["body"]["members"][-1]
    assert second["body"]["members"][0]["name"] == continued["name"]
    assert sum(len(member["addresses"]) for member in first["body"]["members"]) == cp.ADDRESS_LINES_A_PAGE


def test_the_vector_document_s_page_is_the_vector_page_code_s_claim_7() -> None:
    vectors = json.loads((VECTORS / "documents.json").read_text(encoding="utf-8"))
    document = vectors["document"]["map"]
    claims = cbor2.loads(bytes.fromhex(vectors["page_code"]["claims_cbor"]))
    (page,) = split(document["certificate_type"], document["content"])
    assert cp.same(claims[KOUFU_PAGE][7], page)
    assert cp.check_page_contents(document["certificate_type"], document["content"], [claims[KOUFU_PAGE][7]])


# -- contents made at the boundaries -----------------------------------------------------------


def frame(body: dict[str, Any], title: str = "証明書") -> dict[str, Any]:
    return {
        "title": title,
        "municipality": {"code": "131016", "name": "千代田区", "prefecture": "東京都", "mayor": "区長　某"},
        "certified_on": "令和８年１１月２４日",
        "certification": "相違ないことを証明する。",
        "body": body,
        "issued_by": "not printed",
    }


def person(number: int, **more: Any) -> dict[str, Any]:
    return {
        "name": f"住民　{number}",
        "birth_date": "平成元年１月８日",
        "sex": "女",
        "became_resident_on": None,
        "moved_in_on": "令和元年５月１日",
        **more,
    }


def register_member(number: int, **more: Any) -> dict[str, Any]:
    return {"name": f"戸籍　{number}", "birth_date": "…", "relationship": "長男", "sex": "男", **more}


def lines(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"address": f"住所{n}", "from": f"{n}日", "to": None} for n in range(start, start + count)]


def attachment(*counts: int | None, **body: Any) -> dict[str, Any]:
    """Members with ``counts`` address lines each (``None``: a member with none, ``removed``)."""
    members = [
        {
            "name": f"附票　{i}",
            "addresses": lines(n or 0, 100 * i),
            **({"removed": True} if n is None else {}),
        }
        for i, n in enumerate(counts)
    ]
    return frame({**body, "members": members})


def shape(pages: list[dict[str, Any]]) -> list[Any]:
    """Per page: the persons' count, or each member's (name, lines) with its number."""
    result: list[Any] = []
    for page in pages:
        body = page["body"]
        if "persons" in body:
            result.append(len(body["persons"]))
        elif "members" in body and "compiled_on" in body:
            result.append(len(body["members"]))
        elif "members" in body:
            result.append([(m["name"][-1], len(m["addresses"])) for m in body["members"]])
        else:
            result.append(1)
    return result


BOUNDARIES: list[tuple[str, str, dict[str, Any], list[Any]]] = [
    ("one person", "resident_record", frame({"address": None, "persons": [person(1)]}), [1]),
    (
        "four persons",
        "resident_record",
        frame({"address": "…", "persons": [person(n) for n in range(4)]}),
        [4],
    ),
    (
        "five persons, head on both",
        "resident_record",
        frame(
            {
                "address": "…",
                "head": "住民　0",
                "scope": "household",
                "persons": [person(n) for n in range(5)],
            }
        ),
        [4, 1],
    ),
    (
        "nine persons",
        "resident_record_entries",
        frame({"address": "…", "persons": [person(n) for n in range(9)]}),
        [4, 4, 1],
    ),
    (
        "persons' exceptions",
        "resident_record",
        frame(
            {
                "address": "…",
                "persons": [
                    person(1, domicile=None, domicile_head=None, foreign_resident=None, my_number=None),
                    person(2, domicile_head="筆頭者", relationship=None, extra=1),
                    person(3, foreign_resident={"nationality": "韓国", "alias": None, "other": "x"}),
                    person(4, foreign_resident={}),
                    person(5, name_kana=None, previous_address="…"),
                ],
            }
        ),
        [4, 1],
    ),
    (
        "a register without members",
        "family_register",
        frame({"domicile": None, "head_name": None, "compiled_on": "…", "members": []}),
        [0],
    ),
    (
        "three members",
        "family_register",
        frame(
            {
                "domicile": "…",
                "head_name": "…",
                "compiled_on": "…",
                "members": [register_member(n) for n in range(3)],
            }
        ),
        [3],
    ),
    (
        "seven members with events",
        "family_register",
        frame(
            {
                "domicile": "…",
                "head_name": "…",
                "compiled_on": "…",
                "members": [
                    register_member(
                        n,
                        removed=n % 2 == 0,
                        father=None,
                        events=[
                            {"kind": "birth", "date": "…", "extra": 1},
                            {"kind": "k", "date": "…", "detail": "…"},
                        ],
                    )
                    for n in range(7)
                ],
            }
        ),
        [3, 3, 1],
    ),
    ("an attachment without members", "family_register_attachment", attachment(), [[]]),
    ("twelve lines", "family_register_attachment", attachment(12), [[("0", 12)]]),
    (
        "twelve lines, then one more",
        "family_register_attachment",
        attachment(12, 1),
        [[("0", 12)], [("1", 1)]],
    ),
    (
        "twelve lines, then a member with none",
        "family_register_attachment",
        attachment(6, 6, None, 2),
        [[("0", 6), ("1", 6), ("2", 0)], [("3", 2)]],
    ),
    (
        "fifteen rows",
        "family_register_attachment",
        attachment(10, None, None, None, None, None, 1),
        [[("0", 10), ("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0)], [("6", 1)]],
    ),
    (
        "a member continued over three pages",
        "family_register_attachment",
        attachment(5, 30, 0, domicile="本籍", head_name="筆頭者"),
        [[("0", 5), ("1", 7)], [("1", 12)], [("1", 11), ("2", 0)]],
    ),
    (
        "a 筆頭者 without its 本籍",
        "family_register_attachment",
        attachment(13, head_name="筆頭者"),
        [[("0", 12)], [("0", 1)]],
    ),
    (
        "a member without a line, then one continued",
        "family_register_attachment",
        attachment(11, None, 3, domicile=None),
        [[("0", 11), ("1", 0), ("2", 1)], [("2", 2)]],
    ),
    (
        "a seal",
        "seal_registration",
        frame(
            {
                "name": "某",
                "birth_date": None,
                "sex": "女",
                "registration_number": "1",
                "impression": "某",
                "registered_on": "…",
                "address": "not printed",
            }
        ),
        [1],
    ),
    (
        "a tax certificate",
        "tax",
        frame(
            {
                "tax_year": "令和８年度",
                "income_year": "令和７年分",
                "name": "某",
                "birth_date": "…",
                "paid": 0,
                "assessed": 12000,
            }
        ),
        [1],
    ),
]


@pytest.mark.parametrize(
    ("certificate_type", "content", "expected"),
    [case[1:] for case in BOUNDARIES],
    ids=[case[0] for case in BOUNDARIES],
)
def test_contents_at_the_boundaries_make_the_project_s_pages(
    certificate_type: str, content: dict[str, Any], expected: list[Any]
) -> None:
    pages = split(certificate_type, content)
    assert shape(pages) == expected
    for number, page in enumerate(pages, start=1):
        last = number == len(pages)
        assert ("certification" in page) is last and ("mayor" in page["municipality"]) is last
        assert "code" not in page["municipality"] and "issued_by" not in page


def test_the_example_of_the_section_is_what_it_says() -> None:
    members = [
        {"name": "甲", "addresses": lines(10)},
        {"name": "乙", "removed": True, "addresses": lines(5, 10)},
        {"name": "丙", "addresses": []},
    ]
    first, second = split("family_register_attachment", frame({"members": members}))
    assert first["body"] == {
        "members": [
            {"name": "甲", "addresses": lines(10)},
            {"name": "乙", "removed": True, "addresses": lines(2, 10)},
        ]
    }
    assert second["body"] == {
        "members": [
            {"name": "乙", "removed": True, "addresses": lines(3, 12)},
            {"name": "丙", "addresses": []},
        ]
    }
    assert set(first) == {"title", "municipality", "body"} and set(first["municipality"]) == {
        "prefecture",
        "name",
    }
    assert set(second) == {"title", "municipality", "body", "certification", "certified_on"}


# -- contents drawn at random ------------------------------------------------------------------

texts = st.text(alphabet="甲乙丙丁あいう", min_size=1, max_size=3)
blanks = st.none() | texts
unknown = {"unknown": st.integers(0, 3)}  # a key no page prints

addresses = st.fixed_dictionaries({"address": texts, "from": texts}, optional={"to": blanks, **unknown})
attachment_members = st.fixed_dictionaries(
    {"name": texts, "addresses": st.lists(addresses, max_size=20)},
    optional={"removed": st.booleans(), **unknown},
)
attachment_bodies = st.fixed_dictionaries(
    {"members": st.lists(attachment_members, max_size=8)}, optional={"domicile": blanks, "head_name": blanks}
)
foreign = st.none() | st.fixed_dictionaries(
    {}, optional={key: blanks for key in ("nationality", "alias", "residence_status", "unknown")}
)
persons = st.fixed_dictionaries(
    {key: blanks for key in ("birth_date", "sex", "became_resident_on", "moved_in_on")} | {"name": texts},
    optional={
        **{key: blanks for key in ("name_kana", "relationship", "my_number", "previous_address", "domicile")},
        "domicile_head": blanks,
        "foreign_resident": foreign,
        **unknown,
    },
)
resident_bodies = st.fixed_dictionaries(
    {"address": blanks, "persons": st.lists(persons, min_size=1, max_size=13)},
    optional={"head": blanks, **unknown},
)
events = st.fixed_dictionaries({"kind": texts, "date": texts}, optional={"detail": texts})
register_members = st.fixed_dictionaries(
    {"name": texts, "birth_date": texts, "relationship": texts, "sex": texts},
    optional={
        "father": blanks,
        "mother": blanks,
        "removed": st.booleans(),
        "events": st.lists(events, max_size=3),
    },
)
register_bodies = st.fixed_dictionaries(
    {
        "domicile": blanks,
        "head_name": blanks,
        "compiled_on": texts,
        "members": st.lists(register_members, max_size=10),
    }
)
drawn = st.one_of(
    st.tuples(st.just("family_register_attachment"), attachment_bodies),
    st.tuples(st.sampled_from(["resident_record", "resident_record_entries"]), resident_bodies),
    st.tuples(st.just("family_register"), register_bodies),
)


@settings(max_examples=300, deadline=None)
@given(drawn)
def test_contents_drawn_at_random_make_the_project_s_pages(case: tuple[str, dict[str, Any]]) -> None:
    certificate_type, body = case
    split(certificate_type, frame(body))


# -- refused alike -----------------------------------------------------------------------------


def unfit() -> list[tuple[str, str, Any]]:
    good = frame({"address": "…", "persons": [person(1)]})
    without_mayor = copy.deepcopy(good)
    del without_mayor["municipality"]["mayor"]
    tax = {"tax_year": "…", "income_year": "…", "name": "某", "birth_date": "…"}
    register = {"domicile": "…", "head_name": "…", "compiled_on": "…"}
    return [
        ("an unknown type", "driving_licence", good),
        ("not an object", "resident_record", ["a", "list"]),
        ("no body", "resident_record", {k: v for k, v in good.items() if k != "body"}),
        ("no title", "resident_record", {k: v for k, v in good.items() if k != "title"}),
        ("no mayor", "resident_record", without_mayor),
        ("no certification", "resident_record", {k: v for k, v in good.items() if k != "certification"}),
        ("no person", "resident_record", frame({"address": "…", "persons": []})),
        ("no persons key", "resident_record", frame({"address": "…"})),
        ("no address", "resident_record", frame({"persons": [person(1)]})),
        ("a name not text", "resident_record", frame({"address": "…", "persons": [person(1, name=7)]})),
        ("persons not a list", "resident_record", frame({"address": "…", "persons": "someone"})),
        (
            "foreign_resident not an object",
            "resident_record",
            frame({"address": "…", "persons": [person(1, foreign_resident=3)]}),
        ),
        ("a figure as text", "tax", frame({**tax, "paid": "1000"})),
        ("a figure as a boolean", "tax", frame({**tax, "paid": True})),
        (
            "a removed as 1",
            "family_register",
            frame({**register, "members": [register_member(1, removed=1)]}),
        ),
        (
            "an event without date",
            "family_register",
            frame({**register, "members": [register_member(1, events=[{"kind": "k"}])]}),
        ),
        (
            "a null event detail",
            "family_register",
            frame(
                {
                    **register,
                    "members": [register_member(1, events=[{"kind": "k", "date": "d", "detail": None}])],
                }
            ),
        ),
        ("no members", "family_register", frame(register)),
        ("a member without addresses", "family_register_attachment", frame({"members": [{"name": "某"}]})),
        (
            "a line with a null address",
            "family_register_attachment",
            frame({"members": [{"name": "某", "addresses": [{"address": None, "from": "…"}]}]}),
        ),
        (
            "a seal without impression",
            "seal_registration",
            frame(
                {
                    "name": "某",
                    "birth_date": None,
                    "sex": None,
                    "registration_number": None,
                    "impression": None,
                    "registered_on": None,
                }
            ),
        ),
        ("the sample document's", "resident_record", make_document().content),
    ]


@pytest.mark.parametrize(
    ("certificate_type", "content"), [c[1:] for c in unfit()], ids=[c[0] for c in unfit()]
)
def test_content_that_makes_no_pages_is_refused_by_both(certificate_type: str, content: Any) -> None:
    with pytest.raises(UnfitContent):
        page_contents(certificate_type, content)
    with pytest.raises(cp.UnfitContent):
        cp.page_contents(certificate_type, content)


# -- the client's check of claim 7 -------------------------------------------------------------


def test_the_check_of_claim_7_fails_where_a_page_is_not_its_own(town: Specimens) -> None:
    document = town.copies["attachment"].document
    kind, content = document.certificate_type, document.content
    stated = json.loads(json.dumps(page_contents(kind, content)))
    assert cp.check_page_contents(kind, content, stated) == stated
    first, last = stated
    removed = copy.deepcopy(first)
    member = next(m for m in removed["body"]["members"] if "removed" in m)
    member["removed"] = int(member["removed"])  # 0 or 1 for false or true
    mayor = copy.deepcopy(first)
    mayor["municipality"]["mayor"] = last["municipality"]["mayor"]
    code = copy.deepcopy(last)
    code["municipality"]["code"] = "131016"
    moved = copy.deepcopy(first)
    moved["body"]["members"][-1]["addresses"].append(last["body"]["members"][0]["addresses"][0])
    for pages, page in (
        ([first], "pages"),
        ([last, first], 1),
        ([removed, last], 1),
        ([mayor, last], 1),
        ([first, code], 2),
        ([moved, last], 1),
        ([first, {**last, "body": first["body"]}], 2),
    ):
        with pytest.raises(cp.PageContentMismatch) as mismatch:
            cp.check_page_contents(kind, content, pages)
        assert mismatch.value.args == ("page_code_content", page)
