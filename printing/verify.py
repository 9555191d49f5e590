"""Verification of a printed page by anyone (証明書の真正性確認): is its QR code genuine, and does
the copy stand?

Two sources decide, each for what it can know:

- the **QR code alone**, with the published municipal keys: the signing key is a known
  municipality's, the issue number's; its Ed25519 signature covers the content hash; the printed
  verification code is the one derived from that signature;
- the **certificate store** at the center (``GET /v1/verify``, asked with the issue number and
  the code): the copy was printed and not voided, and its content hash is the one in the code.

What it cannot know: whether the words printed on the paper are the words the municipality
issued. The code carries the hash of the document, not the document; nobody holding only the
paper can recompute the hash. A forger who changes the printed text and keeps a genuine code
passes every check here: the page's text must be compared with what the municipality issued
(the page count shown must match, and the municipality can look the copy up by its issue number).
A verdict says so in its words (see ``docs/printing.md``).

A :class:`Verdict` carries the outcome, the copy's issue number, the page, the municipality, the
day and the reason: never anything about the person. Nothing here logs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from PIL import Image

from documents import (
    JST,
    BadSignature,
    DocumentError,
    IssueNumber,
    TrustedKey,
    TrustList,
    UntrustedSigner,
    hash_signature_message,
    verification_code,
)
from documents.errors import MalformedDocument
from printing.page_code import PageClaims, SignedPageCode
from printing.payload import PagePayload
from printing.qr_reading import (
    DamagedCode,
    NoCodeFound,
    NotAnImage,
    TooLarge,
    UnreadableInput,
    read_codes,
    read_payloads,
)
from printing.render import UnrenderableDocument, render_page

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
    "read_payloads",
]

VERIFY_PATH = "/v1/verify"
KEYS_PATH = "/verify/keys.json"  # the municipal keys the center's verification page uses
TIMEOUT = 10.0  # seconds for the center's answer


class Outcome(StrEnum):
    GENUINE = "genuine"  # the code is genuine and the copy stands
    ALTERED = "altered"  # the code does not hold together, or is not the issued copy's
    VOIDED = "voided"  # the copy was cancelled: not to be relied on
    NOT_PRINTED = "not_printed"  # issued but never reported printed: not to be relied on
    UNKNOWN = "unknown"  # no known key, or the store knows no such copy with this code
    UNCONFIRMED = "unconfirmed"  # the code is genuine; the store was not asked


class Reason(StrEnum):
    STANDS = "stands"
    STANDS_TYPED = "stands_typed"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_VALID = "key_not_valid_then"
    OTHER_MUNICIPALITY = "other_municipality"
    BAD_SIGNATURE = "bad_signature"
    CODE_MISMATCH = "code_mismatch"
    NOT_IN_STORE = "not_in_store"
    VOIDED = "voided"
    NOT_PRINTED = "not_printed"
    HASH_MISMATCH = "hash_mismatch"
    PAGES_MISMATCH = "pages_mismatch"
    STORE_NOT_ASKED = "store_not_asked"


#: The reason in words, Japanese and English: what a verifier reads.
WORDS: dict[Reason, tuple[str, str]] = {
    Reason.STANDS: (
        "QRコードは交付元の署名どおりで、この写しは有効です。印字された内容が交付された内容と一致するかは、"
        "ページ数とあわせて書面でご確認ください。",
        "The code is signed by the issuing municipality and the copy is valid. Whether the printed "
        "text is what was issued must be checked on the paper, with the page count.",
    ),
    Reason.STANDS_TYPED: (
        "この交付番号と検証コードの写しは有効です。印字された内容が交付された内容と一致するかは、"
        "書面でご確認ください。",
        "A valid copy has this issue number and verification code. Whether the printed text is what "
        "was issued must be checked on the paper.",
    ),
    Reason.UNKNOWN_KEY: (
        "署名した鍵が公開されている交付元の鍵ではありません。",
        "The code is signed with a key that is not a published municipal key.",
    ),
    Reason.KEY_NOT_VALID: (
        "署名した鍵は交付日に有効ではありませんでした。",
        "The signing key was not valid on the day of issue.",
    ),
    Reason.OTHER_MUNICIPALITY: (
        "交付番号の市区町村と署名した市区町村が異なります。",
        "The code is signed by another municipality than the issue number's.",
    ),
    Reason.BAD_SIGNATURE: (
        "署名が内容のハッシュと一致しません(改ざんされています)。",
        "The signature does not cover the content hash in the code: it was altered.",
    ),
    Reason.CODE_MISMATCH: (
        "検証コードが署名と一致しません(改ざんされています)。",
        "The verification code is not the one of the signature: it was altered.",
    ),
    Reason.NOT_IN_STORE: (
        "この交付番号と検証コードの写しは見つかりません。",
        "No copy with this issue number and verification code is known.",
    ),
    Reason.VOIDED: ("この写しは取り消されています。", "This copy was voided."),
    Reason.NOT_PRINTED: (
        "この写しは印刷されたと報告されていません。",
        "This copy was never reported printed.",
    ),
    Reason.HASH_MISMATCH: (
        "内容のハッシュが交付された写しのものと異なります(改ざんされています)。",
        "The content hash differs from the issued copy's: it was altered.",
    ),
    Reason.PAGES_MISMATCH: (
        "ページ数が交付された写しと異なります(改ざんされています)。",
        "The page count differs from the issued copy's: it was altered.",
    ),
    Reason.STORE_NOT_ASKED: (
        "QRコードの署名は正しいですが、写しが有効かは照会していません。",
        "The code's signature is genuine; whether the copy stands was not asked.",
    ),
}


class StatusUnavailable(DocumentError):
    """The certificate store could not be asked, or answered something that is not an answer."""

    code = "status_unavailable"


@dataclass(frozen=True)
class StoreAnswer:
    """What the certificate store says of a copy (``GET /v1/verify``)."""

    issue_number: str
    status: str  # valid, voided, not_printed, unknown
    municipality: str | None = None
    issued_on: str | None = None  # YYYY-MM-DD
    pages: int | None = None
    content_hash: bytes | None = None

    @classmethod
    def from_json(cls, value: Any) -> StoreAnswer:
        """The endpoint's JSON answer; :class:`StatusUnavailable` for anything else."""
        try:
            status = value["status"]
            if status not in ("valid", "voided", "not_printed", "unknown"):
                raise ValueError(status)
            digest = value.get("content_hash")
            pages = value.get("pages")
            if pages is not None and type(pages) is not int:
                raise ValueError("pages")
            return cls(
                str(value["issue_number"]),
                status,
                value.get("municipality"),
                value.get("issued_on"),
                pages,
                None if digest is None else bytes.fromhex(digest),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise StatusUnavailable("the certificate store's answer is not one") from None


#: Asks the store: (issue number, verification code) → its answer.
StatusSource = Callable[[str, str], StoreAnswer]


@dataclass(frozen=True)
class Verdict:
    """The outcome for one page (or one typed issue number and code), and why: nothing about
    the person."""

    outcome: Outcome
    reason: Reason
    issue_number: str
    page: int | None = None
    pages: int | None = None
    municipality: str | None = None
    municipality_name: str | None = None
    issued_on: str | None = None
    content_hash: str | None = None  # hex, as the store and the municipality's history keep it
    # stand-in (branch verifypage): the page's claims, set only when its signature verified
    claims: PageClaims | None = field(default=None, repr=False, compare=False)

    @property
    def genuine(self) -> bool:
        return self.outcome is Outcome.GENUINE

    @property
    def words_ja(self) -> str:
        return WORDS[self.reason][0]

    @property
    def words_en(self) -> str:
        return WORDS[self.reason][1]

    # stand-in (branch verifypage): what the signed content proves, in words
    @property
    def statement_ja(self) -> str | None:
        claims = self.claims
        if claims is None:
            return None
        day = claims.issued_at.astimezone(JST).date()
        who = self.municipality_name or claims.municipality
        return (
            f"この内容は、{who}が{day.year}年{day.month}月{day.day}日に"
            f"交付番号 {claims.issue_number} の写し（全{claims.pages}頁の{claims.page}頁目）として"
            "交付したものです。お手元の用紙の記載と見比べてください。"
        )

    @property
    def statement_en(self) -> str | None:
        claims = self.claims
        if claims is None:
            return None
        day = claims.issued_at.astimezone(JST).date()
        return (
            f"This content was issued by {self.municipality_name or claims.municipality} on "
            f"{day.isoformat()} as page {claims.page} of {claims.pages} of copy {claims.issue_number}; "
            "compare it with the paper in your hand."
        )


@dataclass(frozen=True)
class PublishedKeys:
    """The published municipal keys (a trust list) and, where given, each municipality's name."""

    trust: TrustList
    names: Mapping[str, str] = field(default_factory=dict)


def load_keys(source: str | Path | bytes) -> PublishedKeys:
    """Published municipal keys from a file (or its bytes): a list of keys as kiosks take them
    (``municipal-keys.json``), a municipality's own ``public-key.json``, or a ``koufu-trust/1``
    list. An entry may add the municipality's ``name``. :class:`MalformedDocument` otherwise."""
    try:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        value = json.loads(raw)
    except (OSError, ValueError) as error:
        raise MalformedDocument(f"the municipal keys cannot be read: {type(error).__name__}") from None
    if type(value) is dict and "format" in value:
        return PublishedKeys(TrustList.from_json(value))
    entries = [value] if type(value) is dict else value
    if type(entries) is not list:
        raise MalformedDocument("the municipal keys are a list of published keys")
    keys: list[TrustedKey] = []
    names: dict[str, str] = {}
    for entry in entries:
        if type(entry) is not dict:
            raise MalformedDocument("a published key is an object")
        entry = dict(entry)
        name = entry.pop("name", None)
        key = TrustedKey.from_json(entry)
        if name is not None:
            if type(name) is not str or not 0 < len(name) <= 40:
                raise MalformedDocument("a municipality's name is a short text")
            names[key.municipality] = name
        keys.append(key)
    return PublishedKeys(TrustList(keys), names)


def check_signature(payload: PagePayload, trust: Mapping[str, TrustedKey]) -> Verdict | None:
    """What the code alone says against the published keys: a verdict when it is not genuine,
    ``None`` when it holds together (then the store decides)."""
    number = IssueNumber.parse(payload.issue_number)  # a PagePayload's is always one
    key = trust.get(payload.key_id)
    if key is None:
        return _verdict(payload, Outcome.UNKNOWN, Reason.UNKNOWN_KEY)
    if key.municipality != number.municipality:
        return _verdict(payload, Outcome.ALTERED, Reason.OTHER_MUNICIPALITY)
    if not key.valid_at(dt.datetime.combine(number.day, dt.time(), JST)):
        return _verdict(payload, Outcome.UNKNOWN, Reason.KEY_NOT_VALID)
    try:
        key.public_key.verify(payload.signature, hash_signature_message(payload.content_hash))
    except InvalidSignature:
        return _verdict(payload, Outcome.ALTERED, Reason.BAD_SIGNATURE)
    if verification_code(payload.signature) != payload.verification_code:
        return _verdict(payload, Outcome.ALTERED, Reason.CODE_MISMATCH)
    return None


def judge(payload: PagePayload, answer: StoreAnswer | None, names: Mapping[str, str] = {}) -> Verdict:
    """The verdict on a code that holds together (:func:`check_signature` gave ``None``), from the
    store's answer (``None``: not asked)."""
    if answer is None:
        return _verdict(payload, Outcome.UNCONFIRMED, Reason.STORE_NOT_ASKED, names)
    if answer.status == "unknown" or answer.issue_number != payload.issue_number:
        return _verdict(payload, Outcome.UNKNOWN, Reason.NOT_IN_STORE, names)
    if answer.status == "voided":
        return _verdict(payload, Outcome.VOIDED, Reason.VOIDED, names)
    if answer.status == "not_printed":
        return _verdict(payload, Outcome.NOT_PRINTED, Reason.NOT_PRINTED, names)
    stored = answer.content_hash
    if stored is None or not hmac.compare_digest(stored, payload.content_hash):
        return _verdict(payload, Outcome.ALTERED, Reason.HASH_MISMATCH, names)
    if answer.pages != payload.pages:
        return _verdict(payload, Outcome.ALTERED, Reason.PAGES_MISMATCH, names)
    return _verdict(payload, Outcome.GENUINE, Reason.STANDS, names)


def check(
    payload: PagePayload | SignedPageCode,
    trust: Mapping[str, TrustedKey] | PublishedKeys,
    status: StatusSource | None,
    *,
    now: dt.datetime | None = None,
) -> Verdict:
    """The verdict on one page's code: the signature against ``trust``, then the store through
    ``status`` (``None``: not asked, at best :attr:`Outcome.UNCONFIRMED`). :class:`StatusUnavailable`
    when the store cannot be asked."""
    keys, names = (trust.trust, trust.names) if isinstance(trust, PublishedKeys) else (trust, {})
    if isinstance(payload, SignedPageCode):
        return _check_code(payload, keys, names, status, now)
    refused = check_signature(payload, keys)
    if refused is not None:
        return _named(refused, names)
    answer = None if status is None else status(payload.issue_number, payload.verification_code)
    return judge(payload, answer, names)


def check_number(answer: StoreAnswer, names: Mapping[str, str] = {}) -> Verdict:
    """The verdict on a typed issue number and code: the store's answer alone (no signature to
    check, no content hash to compare)."""
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
    payload: PagePayload, outcome: Outcome, reason: Reason, names: Mapping[str, str] = {}
) -> Verdict:
    number = IssueNumber.parse(payload.issue_number)
    return Verdict(
        outcome,
        reason,
        payload.issue_number,
        payload.page,
        payload.pages,
        number.municipality,
        names.get(number.municipality),
        number.day.isoformat(),
        payload.content_hash.hex(),
    )


def _named(verdict: Verdict, names: Mapping[str, str]) -> Verdict:
    name = names.get(verdict.municipality or "")
    return verdict if name is None else dataclasses.replace(verdict, municipality_name=name)


class CenterStatus:
    """The center's public ``GET /v1/verify`` over TLS (``ca``: the center's CA certificate file;
    ``None``: the system's CAs). A :data:`StatusSource`; also fetches the keys the center publishes."""

    def __init__(self, url: str, *, ca: str | Path | None = None, timeout: float = TIMEOUT) -> None:
        verify: ssl.SSLContext | bool = True if ca is None else ssl.create_default_context(cafile=str(ca))
        self.http = httpx.Client(base_url=url, verify=verify, timeout=timeout)

    def __call__(self, issue_number: str, code: str) -> StoreAnswer:
        answer = self._get(VERIFY_PATH, {"issue_number": issue_number, "code": code})
        try:
            return StoreAnswer.from_json(answer.json())
        except ValueError:
            raise StatusUnavailable("the certificate store's answer is not JSON") from None

    def keys(self) -> PublishedKeys:
        """The municipal keys the center's verification page uses (``/verify/keys.json``)."""
        try:
            return load_keys(self._get(KEYS_PATH, {}).content)
        except MalformedDocument as error:
            raise StatusUnavailable(f"the center's published keys are not usable: {error}") from None

    def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        try:
            answer = self.http.get(path, params=params)
        except httpx.HTTPError as error:
            raise StatusUnavailable(f"the center cannot be asked ({type(error).__name__})") from None
        if answer.status_code != 200:
            raise StatusUnavailable(f"the center answered HTTP {answer.status_code}")
        return answer

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> CenterStatus:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --- stand-ins (branch verifypage) for the verifier's signed-page-code API, until printing/ brings
# its own: check() on a SignedPageCode, issued_page(), content_lines() ---


def _check_code(
    code: SignedPageCode,
    keys: Mapping[str, TrustedKey],
    names: Mapping[str, str],
    status: StatusSource | None,
    now: dt.datetime | None,
) -> Verdict:
    claims = code.claims
    number = IssueNumber.parse(claims.issue_number)

    def verdict(outcome: Outcome, reason: Reason, shown: PageClaims | None) -> Verdict:
        return Verdict(
            outcome,
            reason,
            claims.issue_number,
            claims.page,
            claims.pages,
            claims.municipality,
            names.get(claims.municipality),
            number.day.isoformat(),
            claims.content_hash.hex(),
            shown,
        )

    key = keys.get(code.key_id)
    if key is None:
        return verdict(Outcome.UNKNOWN, Reason.UNKNOWN_KEY, None)
    if key.municipality != claims.municipality:
        return verdict(Outcome.ALTERED, Reason.OTHER_MUNICIPALITY, None)
    try:
        code.verify(keys, now=now)
    except BadSignature:
        return verdict(Outcome.ALTERED, Reason.BAD_SIGNATURE, None)
    except UntrustedSigner:
        return verdict(Outcome.UNKNOWN, Reason.KEY_NOT_VALID, None)
    if status is None:
        return verdict(Outcome.UNCONFIRMED, Reason.STORE_NOT_ASKED, claims)
    answer = status(claims.issue_number, claims.verification_code)
    if answer.status == "unknown" or answer.issue_number != claims.issue_number:
        return verdict(Outcome.UNKNOWN, Reason.NOT_IN_STORE, claims)
    if answer.status == "voided":
        return verdict(Outcome.VOIDED, Reason.VOIDED, claims)
    if answer.status == "not_printed":
        return verdict(Outcome.NOT_PRINTED, Reason.NOT_PRINTED, claims)
    if answer.content_hash is None or not hmac.compare_digest(answer.content_hash, claims.content_hash):
        return verdict(Outcome.ALTERED, Reason.HASH_MISMATCH, claims)
    if answer.pages != claims.pages:
        return verdict(Outcome.ALTERED, Reason.PAGES_MISMATCH, claims)
    return verdict(Outcome.GENUINE, Reason.STANDS, claims)


def issued_page(code: SignedPageCode, *, dpi: int = 150) -> Image.Image:
    """The page as issued, drawn from its signed content (:class:`UnrenderableDocument` if it
    cannot be)."""
    text = getattr(code, "text", "")
    if not text:
        raise UnrenderableDocument("the page code's text is not known")
    claims = code.claims
    return render_page(
        claims.content,
        certificate_type=claims.certificate_type,
        page=claims.page,
        pages=claims.pages,
        page_number=claims.printed_issue_number,
        verification_code=claims.verification_code,
        payload=text,
        dpi=dpi,
    )


def content_lines(claims: PageClaims) -> list[tuple[str, str]]:
    """The page's content as label/value lines (the label: the field's path in the content)."""
    lines: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("", claims.content)]
    while stack:
        label, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{label}.{key}" if label else key, item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{label}[{index}]", item) for index, item in reversed(list(enumerate(value, 1))))
        elif value is not None:
            lines.append((label, str(value)))
    return lines
