"""``python -m bench.page_code``: the signed page code's size and time, on the specimen copies.

Each specimen copy (``devtools.specimens``: every certificate type, issued by the synthetic town)
is cut into pages the way a page would print them, for measuring only (the real cut is
``printing/page_content.py``'s): a one-page copy's page is the document's whole content; a longer
one slices its body's list — a resident record's persons 4 a page, a family register's members 3
a page, an attachment's address lines 12 a page.

Sizes per page: the COSE_Sign1's CBOR bytes, after zlib, the Base45 characters, the QR version
segno picks in alphanumeric mode at error levels M and Q, and the printed side at 4 printer dots a
module at 300 dpi (0.3387 mm a module) with the 4-module quiet zone. Times per page: sign and
encode, decode, verify, decode and verify, median and p95. Figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import zlib
from dataclasses import dataclass
from typing import Any

import base45
import segno

from bench.timing import timed
from devtools.specimens import SPECIMEN_KEY, Specimens, specimens
from documents import SignedDocument
from printing.page_code import PREFIX, PageClaims, read_page_code, sign_page

MM_PER_MODULE = 4 / 300 * 25.4  # 4 dots a module at 300 dpi
QUIET_ZONE = 4
#: the body's list each multi-page certificate type is cut by, and how many to a page
SLICES = {"resident_record": ("persons", 4), "family_register": ("members", 3)}
ADDRESS_LINES_PER_PAGE = 12


def page_contents(signed: SignedDocument) -> list[dict[str, Any]]:
    """The specimen's pages' contents, cut as the module's docstring says (for measuring)."""
    document = signed.document
    content = document.content
    if document.pages == 1:
        return [content]
    body = content["body"]
    if document.certificate_type == "family_register_attachment":
        slices = _address_slices(body["members"])
        return [{**content, "body": {**body, "members": members}} for members in slices]
    name, per_page = SLICES[document.certificate_type]
    items = body[name]
    return [
        {**content, "body": {**body, name: items[start : start + per_page]}}
        for start in range(0, len(items), per_page)
    ]


def _address_slices(members: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = [[]]
    lines = 0
    for member in members:
        addresses = list(member["addresses"])
        while addresses:
            if lines == ADDRESS_LINES_PER_PAGE:
                pages.append([])
                lines = 0
            room = ADDRESS_LINES_PER_PAGE - lines
            pages[-1].append({**member, "addresses": addresses[:room]})
            lines += len(addresses[:room])
            addresses = addresses[room:]
    return pages


@dataclass(frozen=True)
class Page:
    name: str
    claims: PageClaims
    text: str


def specimen_pages(town: Specimens) -> list[Page]:
    pages = []
    for name, opened in town.copies.items():
        signed = opened.signed
        for number, content in enumerate(page_contents(signed), start=1):
            claims = PageClaims.of(signed, number, content)
            pages.append(Page(name, claims, sign_page(claims, SPECIMEN_KEY)))
    return pages


def sizes(page: Page) -> tuple[int, int, int, int, int, float]:
    """CBOR bytes, zlib bytes, Base45 characters, QR version at M and Q, side in mm at M."""
    cose = read_page_code(page.text).cose
    compressed = base45.b45decode(page.text[len(PREFIX) :])
    assert zlib.decompress(compressed) == cose
    at_m = segno.make(page.text, error="m", mode="alphanumeric", micro=False, boost_error=False)
    at_q = segno.make(page.text, error="q", mode="alphanumeric", micro=False, boost_error=False)
    side = (at_m.symbol_size(border=QUIET_ZONE)[0]) * MM_PER_MODULE
    return len(cose), len(compressed), len(page.text), int(at_m.version), int(at_q.version), side


def _read_and_verify(text: str, town: Specimens) -> None:
    read_page_code(text).verify(town.trust, now=town.now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="runs of each step per page (default 500)")
    args = parser.parse_args()
    town = specimens()
    pages = specimen_pages(town)
    print("signed page code (KF2: CWT in COSE_Sign1, zlib 9, Base45), per specimen page")
    print(
        f"{'specimen':28} {'page':>4} {'CBOR B':>7} {'zlib B':>7} {'Base45':>7} "
        f"{'ver M':>6} {'ver Q':>6} {'side mm (M)':>12}"
    )
    numbers = {}
    for page in pages:
        cbor_bytes, zlib_bytes, chars, at_m, at_q, side = sizes(page)
        numbers[page.name, page.claims.page] = zlib_bytes
        print(
            f"{page.name:28} {page.claims.page:>4} {cbor_bytes:>7} {zlib_bytes:>7} {chars:>7} "
            f"{at_m:>6} {at_q:>6} {side:>12.1f}"
        )
    print(
        f"zlib bytes over all pages: min {min(numbers.values())}, median "
        f"{statistics.median(numbers.values()):.0f}, max {max(numbers.values())}"
    )
    print(f"\ntimes per page, {args.runs} runs each, microseconds: median / p95")
    print(
        f"{'specimen':28} {'page':>4} {'sign+encode':>15} {'decode':>15} {'verify':>15} {'decode+verify':>15}"
    )
    for page in pages:
        code = read_page_code(page.text)

        rows = (
            timed(functools.partial(sign_page, page.claims, SPECIMEN_KEY), args.runs),
            timed(functools.partial(read_page_code, page.text), args.runs),
            timed(functools.partial(code.verify, town.trust, now=town.now), args.runs),
            timed(functools.partial(_read_and_verify, page.text, town), args.runs),
        )
        cells = " ".join(f"{median:>7.0f} / {p95:>5.0f}" for median, p95 in rows)
        print(f"{page.name:28} {page.claims.page:>4} {cells}")


if __name__ == "__main__":
    main()
