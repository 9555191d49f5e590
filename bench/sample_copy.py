"""The one-page copy the single-step benches sign, seal and open (a 印鑑登録証明書), with the
binding it is sealed under and a stand-in page code of a typical size (signing page codes is
``bench.page_code``'s figure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from documents import Binding, Document, IssueNumber, MunicipalKey, SignedDocument, sign, tokyo_day

CODE = "131016"
TERMINAL = "T-0001"
PAGE_CODE = "KF2:" + "0" * 1000  # about the length of a real page's code


def sample_copy(now: dt.datetime) -> tuple[Document, Binding]:
    """The copy issued at ``now`` (its issue number's day is the day in Japan) and its binding."""
    binding = Binding("O-1", "S-1", TERMINAL, "ab" * 32)
    document = Document(
        IssueNumber(tokyo_day(now), CODE, TERMINAL, 1, 1),
        "seal_registration",
        CODE,
        now,
        binding,
        1,
        {"title": "印鑑登録証明書", "body": {"name": "佐藤　花子", "impression": "佐藤"}},
    )
    return document, binding


def signed_with_its_page(document: Document, key: MunicipalKey) -> SignedDocument:
    """``document`` signed by ``key``, with the stand-in code for its page (a copy is sealed only
    with one code per page)."""
    return dataclasses.replace(sign(document, key), page_codes=(PAGE_CODE,))
