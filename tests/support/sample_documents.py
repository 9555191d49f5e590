"""A sample document of the document protocol, for the tests of documents, payloads and printing:
a two-page resident record of 千代田区, issued at a fixed instant for one order at terminal
``T-0001``, bound to the holder's certificate, the resident's name a canary.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from documents import JST, Binding, Document, IssueNumber, SignedDocument

CHIYODA = "131016"  # 千代田区
TERMINAL = "T-0001"
ISSUED_AT = dt.datetime(2026, 11, 23, 10, 15, 30, tzinfo=JST)
ISSUE = IssueNumber(dt.date(2026, 11, 23), CHIYODA, TERMINAL, 1, 42)
CANARY = "カナリア山田花子-CANARY-7f3a9c"
HOLDER_DER = b"0\x82\x04\x00 the resident's user-authentication certificate"
EXPECTED = Binding(
    order_id="ORD-20261123-000017",
    session_id="6f1c2f0e-8a43-4b7e-9d2a-0c5e1f3b7a91",
    terminal_id=TERMINAL,
    holder_certificate=Binding.holder_hash(HOLDER_DER),
)


def make_document(*, binding: Binding = EXPECTED, issue: IssueNumber = ISSUE, **changes: Any) -> Document:
    """The sample document, with another ``binding``, ``issue`` or any other field if given."""
    fields: dict[str, Any] = {
        "issue_number": issue,
        "certificate_type": "resident_record",
        "municipality": CHIYODA,
        "issued_at": ISSUED_AT,
        "binding": binding,
        "pages": 2,
        "content": {
            "name": CANARY,
            "address": "東京都千代田区九段南1-2-1",
            "household": [{"name": CANARY, "relation": "世帯主", "born": "1980-04-01"}],
            "fee_yen": 200,
            "remarks": None,
            "seal_registered": False,
        },
    }
    fields.update(changes)
    return Document(**fields)


def with_page_codes(signed: SignedDocument) -> SignedDocument:
    """``signed`` with a stand-in code for each page, as a copy is sealed only with them: this
    layer carries page codes without reading them (the printing layer's tests make real ones)."""
    codes = tuple(f"KF2:STAND IN {page}" for page in range(1, signed.document.pages + 1))
    return dataclasses.replace(signed, page_codes=codes)
