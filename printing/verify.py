"""Verification of a printed page by anyone (証明書の真正性確認): what did the municipality issue
on this page, and does the copy stand?

Each page's QR code is the municipality's signed page code (:mod:`printing.page_code`): it states
the page's content (what the page prints), the copy's issue number, the page and the page count,
and is signed with the municipality's key. Two sources decide, each for what it can know:

- the **code alone**, with the published municipal keys: the signing key is a published key of
  the code's municipality, valid then and now, and its signature covers exactly what the code
  states. Then the content is the municipality's, and is shown (:attr:`Verdict.claims`,
  :func:`issued_page`, :func:`content_lines`) for the receiver to compare with the paper: a
  genuine code pasted on a page with other words shows the words that were issued, not the
  forger's;
- the **certificate store** at the center (``GET /v1/verify``, asked with the issue number and the
  verification code): the copy was printed and not voided, with the content hash and page count
  the code states.

A :class:`Verdict` carries the outcome, the reason and the copy's facts (issue number, page,
municipality, day); its ``claims`` (the resident's data, as issued) only when the signature
verified. Its ``repr`` and its words name no one. Nothing here logs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from documents import BadSignature, TrustedKey, UntrustedSigner, tokyo_day
from printing.issued_view import content_lines, issued_page
from printing.page_code import PageClaims, SignedPageCode
from printing.published_keys import PublishedKeys, load_keys
from printing.qr_reading import (
    DamagedCode,
    NoCodeFound,
    NotAnImage,
    TooLarge,
    UnreadableInput,
    read_codes,
)
from printing.verify_store import CenterStatus, StatusSource, StatusUnavailable, StoreAnswer

__all__ = [
    "CenterStatus",
    "DamagedCode",
    "NoCodeFound",
    "NotAnImage",
    "Outcome",
    "PublishedKeys",
    "Reason",
    "StatusSource",
    "StatusUnavailable",
    "StoreAnswer",
    "TooLarge",
    "UnreadableInput",
    "Verdict",
    "check",
    "check_number",
    "check_signature",
    "content_lines",
    "issued_page",
    "judge",
    "load_keys",
    "read_codes",
]


class Outcome(StrEnum):
    GENUINE = "genuine"  # the municipality signed exactly this content for this page; the copy stands
    ALTERED = "altered"  # the code's signature does not hold, or the store's copy is another
    VOIDED = "voided"  # the copy was cancelled: not to be relied on
    NOT_PRINTED = "not_printed"  # issued but never reported printed: not to be relied on
    UNKNOWN = "unknown"  # no published key for it, or the store knows no such copy
    UNCONFIRMED = "unconfirmed"  # the content is the municipality's; the store was not asked


class Reason(StrEnum):
    STANDS = "stands"
    STANDS_TYPED = "stands_typed"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_VALID = "key_not_valid_then"
    OTHER_MUNICIPALITY = "other_municipality"
    BAD_SIGNATURE = "bad_signature"
    NOT_IN_STORE = "not_in_store"
    VOIDED = "voided"
    NOT_PRINTED = "not_printed"
    HASH_MISMATCH = "hash_mismatch"
    PAGES_MISMATCH = "pages_mismatch"
    STORE_NOT_ASKED = "store_not_asked"


#: The reason in words, Japanese and English: what a verifier reads.
WORDS: dict[Reason, tuple[str, str]] = {
    Reason.STANDS: (
        "交付元の市区町村がこのページのこの内容に署名しており、この写しは有効です。"
        "表示された内容がお手元の用紙の記載と同じかを見比べてください。",
        "The municipality signed exactly this content for this page, and the copy stands. "
        "Compare the content shown with the paper in your hand.",
    ),
    Reason.STANDS_TYPED: (
        "この交付番号と検証コードの写しは有効です。内容は表示されません。"
        "内容を確かめるには、用紙のQRコードを読み取ってください。",
        "A valid copy has this issue number and verification code. Its content is not shown: "
        "read the page's QR code to see what was issued.",
    ),
    Reason.UNKNOWN_KEY: (
        "QRコードに署名した鍵が、公開されている市区町村の鍵ではありません。内容は表示しません。",
        "The code is signed with a key that is not a published municipal key. Its content is not shown.",
    ),
    Reason.KEY_NOT_VALID: (
        "QRコードに署名した鍵は、交付日(または確認を求めた時点)に有効ではありません。内容は表示しません。",
        "The signing key was not valid on the day of issue (or at the time asked). Its content is not shown.",
    ),
    Reason.OTHER_MUNICIPALITY: (
        "QRコードに署名した鍵は、別の市区町村の鍵です(改ざんされています)。内容は表示しません。",
        "The code is signed with another municipality's key: it was altered. Its content is not shown.",
    ),
    Reason.BAD_SIGNATURE: (
        "署名がQRコードの内容と一致しません(改ざんされています)。内容は表示しません。",
        "The municipality's signature does not cover what the code states: it was altered. "
        "Its content is not shown.",
    ),
    Reason.NOT_IN_STORE: (
        "この交付番号と検証コードの写しは交付記録にありません。",
        "No copy with this issue number and verification code is on record.",
    ),
    Reason.VOIDED: ("この写しは取り消されています。", "This copy was voided."),
    Reason.NOT_PRINTED: (
        "この写しは印刷されたと報告されていません。",
        "This copy was never reported printed.",
    ),
    Reason.HASH_MISMATCH: (
        "交付記録の写しと内容のハッシュが異なります。",
        "The content hash differs from the copy on record.",
    ),
    Reason.PAGES_MISMATCH: (
        "交付記録の写しとページ数が異なります。",
        "The page count differs from the copy on record.",
    ),
    Reason.STORE_NOT_ASKED: (
        "内容は交付元の市区町村が署名したものですが、写しが取り消されていないかは照会していません。",
        "The content was signed by the municipality; whether the copy stands (printed, not voided) "
        "was not asked.",
    ),
}

#: What the store's answer adds to the statement of what was issued, Japanese and English.
_STANDING: dict[Outcome, tuple[str, str]] = {
    Outcome.GENUINE: ("", ""),
    Outcome.VOIDED: ("ただし、この写しは取り消されています。", " This copy was voided since."),
    Outcome.NOT_PRINTED: (
        "ただし、この写しは印刷されたと報告されていません。",
        " This copy was never reported printed.",
    ),
    Outcome.UNKNOWN: ("ただし、この写しは交付記録にありません。", " This copy is not on record."),
    Outcome.ALTERED: ("ただし、交付記録の写しと一致しません。", " It does not match the copy on record."),
    Outcome.UNCONFIRMED: (
        "写しが取り消されていないかは照会していません。",
        " Whether the copy was voided since was not asked.",
    ),
}


@dataclass(frozen=True)
class Verdict:
    """The outcome for one page (or one typed issue number and code), and why.

    ``claims`` is what the page's code states, set only when its signature verified against a
    published key: the resident's data as issued, to be shown to the receiver and nowhere else
    (it is not in the ``repr``)."""

    outcome: Outcome
    reason: Reason
    issue_number: str
    page: int | None = None
    pages: int | None = None
    municipality: str | None = None
    municipality_name: str | None = None
    issued_on: str | None = None
    content_hash: str | None = None  # hex, as the store and the municipality's history keep it
    claims: PageClaims | None = field(default=None, repr=False)

    @property
    def genuine(self) -> bool:
        return self.outcome is Outcome.GENUINE

    @property
    def words_ja(self) -> str:
        return WORDS[self.reason][0]

    @property
    def words_en(self) -> str:
        return WORDS[self.reason][1]

    @property
    def statement_ja(self) -> str | None:
        """Exactly what was proved, in Japanese, when the content is the municipality's (else
        ``None``): who issued this content, on which day, as which page of which copy."""
        if self.claims is None:
            return None
        claims = self.claims
        day = tokyo_day(claims.issued_at)
        who = self.municipality_name or f"市区町村コード {claims.municipality} の市区町村"
        return (
            f"この内容は、{who}が{day.year}年{day.month}月{day.day}日に交付番号 {claims.issue_number} "
            f"の写し（全{claims.pages}頁の{claims.page}頁目）として交付したものです。"
            f"{_STANDING[self.outcome][0]}お手元の用紙の記載と見比べてください。"
        )

    @property
    def statement_en(self) -> str | None:
        """:attr:`statement_ja` in English."""
        if self.claims is None:
            return None
        claims = self.claims
        who = claims.municipality
        if self.municipality_name:
            who = f"{self.municipality_name} ({claims.municipality})"
        return (
            f"This content was issued by {who} on {tokyo_day(claims.issued_at).isoformat()} as page "
            f"{claims.page} of {claims.pages} of copy {claims.issue_number}."
            f"{_STANDING[self.outcome][1]} Compare it with the paper in your hand."
        )


def check_signature(
    code: SignedPageCode, trust: Mapping[str, TrustedKey], *, now: dt.datetime | None = None
) -> Verdict | None:
    """What the code alone says against the published keys (as :meth:`SignedPageCode.verify`): a
    verdict, without claims, when its content is not the municipality's; ``None`` when it is (then
    the store decides, :func:`judge`).

    The key must have been valid at the moment of issue; by default that is all (a page is kept
    for years, a municipality's key is replaced sooner: an archived page stays checkable, and the
    store says whether the copy stands). Given ``now``, the key must be valid then too."""
    claims = code.claims
    key = trust.get(code.key_id)
    if key is None:
        return _verdict(code, Outcome.UNKNOWN, Reason.UNKNOWN_KEY)
    if key.municipality != claims.municipality:
        return _verdict(code, Outcome.ALTERED, Reason.OTHER_MUNICIPALITY)
    moment = claims.issued_at if now is None else now
    if not (key.valid_at(claims.issued_at) and key.valid_at(moment)):
        return _verdict(code, Outcome.UNKNOWN, Reason.KEY_NOT_VALID)
    try:
        code.verify(trust, now=moment)
    except BadSignature:
        return _verdict(code, Outcome.ALTERED, Reason.BAD_SIGNATURE)
    except UntrustedSigner:  # the checks above are verify's own: kept should verify ever add one
        return _verdict(code, Outcome.UNKNOWN, Reason.UNKNOWN_KEY)
    return None


def judge(code: SignedPageCode, answer: StoreAnswer | None, names: Mapping[str, str] = {}) -> Verdict:
    """The verdict on a code whose signature verified (:func:`check_signature` gave ``None``),
    from the store's answer (``None``: not asked); its ``claims`` are set."""
    claims = code.claims
    if answer is None:
        return _verdict(code, Outcome.UNCONFIRMED, Reason.STORE_NOT_ASKED, names, verified=True)
    if answer.status == "unknown" or answer.issue_number != claims.issue_number:
        return _verdict(code, Outcome.UNKNOWN, Reason.NOT_IN_STORE, names, verified=True)
    if answer.status == "voided":
        return _verdict(code, Outcome.VOIDED, Reason.VOIDED, names, verified=True)
    if answer.status == "not_printed":
        return _verdict(code, Outcome.NOT_PRINTED, Reason.NOT_PRINTED, names, verified=True)
    stored = answer.content_hash
    if stored is None or not hmac.compare_digest(stored, claims.content_hash):
        return _verdict(code, Outcome.ALTERED, Reason.HASH_MISMATCH, names, verified=True)
    if answer.pages != claims.pages:
        return _verdict(code, Outcome.ALTERED, Reason.PAGES_MISMATCH, names, verified=True)
    return _verdict(code, Outcome.GENUINE, Reason.STANDS, names, verified=True)


def check(
    code: SignedPageCode,
    trust: Mapping[str, TrustedKey] | PublishedKeys,
    status: StatusSource | None,
    *,
    now: dt.datetime | None = None,
) -> Verdict:
    """The verdict on one page's code: the signature against ``trust`` (the key valid at issue,
    and at ``now`` when given: :func:`check_signature`), then the store through ``status``
    (``None``: not asked, at best :attr:`Outcome.UNCONFIRMED`). :class:`StatusUnavailable` when
    the store cannot be asked."""
    keys, names = (trust.trust, trust.names) if isinstance(trust, PublishedKeys) else (trust, {})
    refused = check_signature(code, keys, now=now)
    if refused is not None:
        return _named(refused, names)
    claims = code.claims
    answer = None if status is None else status(claims.issue_number, claims.verification_code)
    return judge(code, answer, names)


def check_number(answer: StoreAnswer, names: Mapping[str, str] = {}) -> Verdict:
    """The verdict on a typed issue number and code: the store's answer alone (no signature to
    check, no content to show)."""
    outcome, reason = {
        "valid": (Outcome.GENUINE, Reason.STANDS_TYPED),
        "voided": (Outcome.VOIDED, Reason.VOIDED),
        "not_printed": (Outcome.NOT_PRINTED, Reason.NOT_PRINTED),
    }.get(answer.status, (Outcome.UNKNOWN, Reason.NOT_IN_STORE))
    if outcome is Outcome.UNKNOWN:
        return Verdict(outcome, reason, answer.issue_number)
    return Verdict(
        outcome,
        reason,
        answer.issue_number,
        None,
        answer.pages,
        answer.municipality,
        names.get(answer.municipality or ""),
        answer.issued_on,
        None if answer.content_hash is None else answer.content_hash.hex(),
    )


def _verdict(
    code: SignedPageCode,
    outcome: Outcome,
    reason: Reason,
    names: Mapping[str, str] = {},
    *,
    verified: bool = False,
) -> Verdict:
    claims = code.claims
    return Verdict(
        outcome,
        reason,
        claims.issue_number,
        claims.page,
        claims.pages,
        claims.municipality,
        names.get(claims.municipality),
        tokyo_day(claims.issued_at).isoformat(),
        claims.content_hash.hex(),
        claims if verified else None,
    )


def _named(verdict: Verdict, names: Mapping[str, str]) -> Verdict:
    name = names.get(verdict.municipality or "")
    return verdict if name is None else dataclasses.replace(verdict, municipality_name=name)
