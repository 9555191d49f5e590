"""An independent minimal terminal client, written from ``docs/protocol.md`` and the vector files
only: it imports the standard library and general libraries (``httpx``, ``cryptography``,
``cbor2``, ``base45``), nothing of the project (``tests/test_conformance.py`` checks that with
:mod:`ast`). What it does, section by section of the specification:

- §2: deterministic CBOR (strict), unpadded base64url (strict) for every binary value, standard
  base64 only in the signature's header fields (§3.1);
- §3.1: RFC 9421 signatures of its requests with the terminal's P-256 key over an RFC 9530
  ``Content-Digest``; it also verifies a signature (the vectors');
- §3.2: opening HPKE envelopes (DHKEM(P-256), HKDF-SHA256, AES-256-GCM, ``info`` = the header's
  deterministic CBOR);
- §4.1.3: the resident binding the card signs (the card itself is the caller's: a function);
- §5.3, §5.6, §5.7: the municipality's COSE_Sign1 (EdDSA) of a copy, an offer and a refusal
  against the published keys (§6.2), the binding, the issue number;
- §5.4: the verification code; §5.5: page codes (``KF2:`` Base45 → zlib → COSE_Sign1 → CWT).
- §5.7 with §4.1.4 and §4.1.5: the sealed reason of a refusal, read and shown (:func:`read_refusal`);
  §5.8, each page's content (claim 7) of a copy of several pages: ``conformance_pages.py``.

Every check failing raises :class:`CheckFailed` with the name of the check.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import ssl
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import base45
import cbor2
import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

TAG = "koufu-terminal/1"
ALG = "ecdsa-p256-sha256"
COMPONENTS = ("@method", "@path", "@query", "content-digest")
SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KOUFU_PAGE = -65537
MAX_COSE = 16 * 1024
OFFER_FRESH = dt.timedelta(minutes=10)
OFFER_AHEAD = dt.timedelta(minutes=2)


class CheckFailed(Exception):
    """A check of the specification failed; ``args[0]`` names it."""


# -- §2 encodings ------------------------------------------------------------------------------


def deterministic(raw: bytes, what: str = "cbor") -> Any:
    """§2: CBOR that must be exactly the deterministic encoding of what it holds (cbor2 refuses
    duplicate keys and indefinite lengths when told to; re-encoding catches every other form)."""
    try:
        value = cbor2.loads(raw, allow_indefinite=False, allow_duplicate_keys=False)
    except Exception as error:
        raise CheckFailed(f"{what}_not_cbor") from error
    if cbor2.dumps(value, canonical=True) != raw:
        raise CheckFailed(f"{what}_not_deterministic")
    return value


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url, refusing padding, other characters, length ≡ 1 (mod 4) and stray bits."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise CheckFailed("bad_base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise CheckFailed("bad_base64url")
    return data


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_std(data: bytes) -> str:
    """Standard base64 with padding: only in the RFC 9530 and RFC 9421 header fields (§3.1)."""
    return base64.b64encode(data).decode()


# -- §3.1 request signing --------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    return f"sha-256=:{b64_std(hashlib.sha256(body).digest())}:"


def signature_params(*, created: int, keyid: str, nonce: str) -> str:
    inner = " ".join(f'"{name}"' for name in COMPONENTS)
    return f'({inner});created={created};keyid="{keyid}";alg="{ALG}";nonce="{nonce}";tag="{TAG}"'


def signature_base(method: str, target: str, digest: str, params: str) -> bytes:
    """RFC 9421 §2.5 for this profile: ``target`` is the path with its query (no scheme, host)."""
    parts = urlsplit(target)
    lines = [
        f'"@method": {method.upper()}',
        f'"@path": {parts.path}',
        f'"@query": ?{parts.query}',
        f'"content-digest": {digest}',
        f'"@signature-params": {params}',
    ]
    return "\n".join(lines).encode("ascii")


def new_nonce() -> str:
    return b64url_encode(secrets.token_bytes(16))


def sign_headers(
    key: ec.EllipticCurvePrivateKey,
    keyid: str,
    method: str,
    target: str,
    body: bytes,
    *,
    created: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The three headers of §3.1 for one request."""
    digest = content_digest(body)
    params = signature_params(
        created=int(time.time()) if created is None else created,
        keyid=keyid,
        nonce=new_nonce() if nonce is None else nonce,
    )
    der = key.sign(signature_base(method, target, digest, params), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return {
        "Content-Digest": digest,
        "Signature-Input": f"koufu={params}",
        "Signature": f"koufu=:{b64_std(raw)}:",
    }


def verify_signature(public_key: ec.EllipticCurvePublicKey, base: bytes, header: str) -> bool:
    """Whether ``Signature: koufu=:…:`` (raw r‖s) verifies over ``base``."""
    match = re.fullmatch(r"koufu=:([A-Za-z0-9+/=]+):", header)
    if not match:
        return False
    raw = base64.b64decode(match.group(1), validate=True)
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, base, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# -- §3.2 sealing ----------------------------------------------------------------------------


def open_envelope(
    envelope_bytes: bytes, key: ec.EllipticCurvePrivateKey, expected_header: Mapping[str, str]
) -> bytes:
    """The plaintext of an envelope (its CBOR bytes, not the base64url it travels as) whose header
    is exactly ``expected_header``."""
    envelope = deterministic(envelope_bytes, "envelope")
    if not isinstance(envelope, dict) or not {"enc", "ciphertext"} <= set(envelope):
        raise CheckFailed("envelope_form")
    header = {name: value for name, value in envelope.items() if name not in ("enc", "ciphertext")}
    if header.get("recipient") != expected_header.get("recipient"):
        raise CheckFailed("not_for_this_terminal")
    if header != dict(expected_header):
        raise CheckFailed("envelope_header")
    enc, ciphertext = envelope["enc"], envelope["ciphertext"]
    if not isinstance(enc, bytes) or not isinstance(ciphertext, bytes) or len(enc) != 65:
        raise CheckFailed("envelope_form")
    try:
        return SUITE.decrypt(enc + ciphertext, key, info=cbor2.dumps(header, canonical=True))
    except Exception as error:  # cryptography raises InvalidTag or ValueError
        raise CheckFailed("undecryptable") from error


# -- §6.2 published keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedKey:
    municipality: str
    key_id: str
    public_key: ed25519.Ed25519PublicKey
    not_after: dt.datetime | None

    def usable(self, municipality: str, *moments: dt.datetime) -> bool:
        return self.municipality == municipality and all(
            self.not_after is None or moment <= self.not_after for moment in moments
        )


def key_id_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def load_published_keys(entries: Sequence[Mapping[str, Any]]) -> dict[str, PublishedKey]:
    """The kiosk's ``municipal-keys.json``: an array of published keys, each key id recomputed."""
    keys = {}
    for entry in entries:
        if set(entry) != {"municipality", "key_id", "public_key", "not_after"}:
            raise CheckFailed("published_key_fields")
        raw = b64url_decode(entry["public_key"])
        if len(raw) != 32 or key_id_of(raw) != entry["key_id"]:
            raise CheckFailed("published_key_id")
        not_after = None if entry["not_after"] is None else dt.datetime.fromisoformat(entry["not_after"])
        keys[entry["key_id"]] = PublishedKey(
            entry["municipality"], entry["key_id"], ed25519.Ed25519PublicKey.from_public_bytes(raw), not_after
        )
    return keys


def _ed25519_ok(key: ed25519.Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


# -- §5.4 verification code, §5.5 page code --------------------------------------------------


def verification_code(signature: bytes) -> str:
    digest = hashlib.sha256(b"koufu-verify/1" + signature).digest()
    n = int.from_bytes(digest[:8], "big") >> 4
    symbols = "".join(CROCKFORD[(n >> (5 * (11 - i))) & 0x1F] for i in range(12))
    return "-".join(symbols[i : i + 4] for i in (0, 4, 8))


@dataclass(frozen=True)
class PageCode:
    kid: bytes
    claims: dict[Any, Any]

    @property
    def page(self) -> dict[Any, Any]:
        value = self.claims[KOUFU_PAGE]
        assert isinstance(value, dict)
        return value


@dataclass(frozen=True)
class Sign1:
    """§5.3: a COSE_Sign1's parts, its form checked, its signature not yet."""

    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes

    def verify(self, key: PublishedKey) -> bool:
        to_sign = cbor2.dumps(["Signature1", self.protected, b"", self.payload], canonical=True)
        return _ed25519_ok(key.public_key, self.signature, to_sign)


def read_sign1(raw: bytes, what: str) -> Sign1:
    """§5.3: the tagged COSE_Sign1, its protected header exactly ``{1: -8, 4: kid}``."""
    sign1 = deterministic(raw, what)
    if not (isinstance(sign1, cbor2.CBORTag) and sign1.tag == 18 and len(sign1.value) == 4):
        raise CheckFailed(f"{what}_cose")
    protected_raw, unprotected, payload, signature = sign1.value
    if not all(isinstance(part, bytes) for part in (protected_raw, payload, signature)):
        raise CheckFailed(f"{what}_cose")
    protected = deterministic(protected_raw, what)
    if unprotected != {} or not isinstance(protected, dict) or set(protected) != {1, 4}:
        raise CheckFailed(f"{what}_header")
    if protected[1] != -8 or not isinstance(protected[4], bytes) or len(protected[4]) != 8:
        raise CheckFailed(f"{what}_header")
    if len(signature) != 64:
        raise CheckFailed(f"{what}_cose")
    return Sign1(protected[4], protected_raw, payload, signature)


def verify_page_code(text: str, keys: Mapping[str, PublishedKey], now: dt.datetime) -> PageCode:
    """§5.5: decode and verify one page code; returns its kid and claims."""
    if not text.startswith("KF2:") or len(text) > 3400:
        raise CheckFailed("page_code_form")
    try:
        compressed = base45.b45decode(text[4:])
    except Exception as error:
        raise CheckFailed("page_code_base45") from error
    inflater = zlib.decompressobj()
    try:
        cose = inflater.decompress(compressed, MAX_COSE + 1)
    except zlib.error as error:
        raise CheckFailed("page_code_zlib") from error
    if len(cose) > MAX_COSE or not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise CheckFailed("page_code_zlib")
    sign1 = read_sign1(cose, "page_code")
    claims = deterministic(sign1.payload, "page_code")
    if not isinstance(claims, dict) or set(claims) != {1, 6, KOUFU_PAGE}:
        raise CheckFailed("page_code_claims")
    key = keys.get(sign1.kid.hex())
    iat = dt.datetime.fromtimestamp(claims[6], dt.UTC)
    if key is None or not key.usable(claims[1], iat, now):
        raise CheckFailed("page_code_untrusted_signer")
    if not sign1.verify(key):
        raise CheckFailed("page_code_bad_signature")
    return PageCode(sign1.kid, claims)


# -- §5.3 a copy, §5.6 the offer -------------------------------------------------------------


def single_page(content: Mapping[str, Any]) -> dict[str, Any]:
    """§5.8: what the only (so the last) page of a copy prints: the content, its municipality with
    ``prefecture``, ``name`` and ``mayor`` only. (Splitting a longer copy over pages is per type and
    not done here: a copy of several pages has its page codes' signatures and fields checked, not
    their content.)"""
    municipality = content["municipality"]
    return {**content, "municipality": {name: municipality[name] for name in ("prefecture", "name", "mayor")}}


@dataclass(frozen=True)
class OpenedCopy:
    document: dict[str, Any]
    key_id: str
    signature: bytes
    page_codes: list[str]
    verification_code: str
    content_hash: str
    pages: list[PageCode] = field(default_factory=list)


def open_copy(
    sealed: str,
    *,
    terminal_id: str,
    key: ec.EllipticCurvePrivateKey,
    issue_number: str,
    keys: Mapping[str, PublishedKey],
    binding: Mapping[str, str] | None,
    now: dt.datetime,
    check_page_codes: bool = True,
) -> OpenedCopy:
    """§5.3 in its order: envelope, recipient, decryption, form, signer, signature, issue number,
    binding; then §5.4 and each page code (§5.5) against the copy."""
    header = {"format": "koufu-sealed/3", "issue_number": issue_number, "recipient": terminal_id}
    inner = deterministic(open_envelope(b64url_decode(sealed), key, header), "copy")
    if not isinstance(inner, dict) or set(inner) != {"document", "page_codes"}:
        raise CheckFailed("copy_form")
    if not isinstance(inner["document"], bytes) or not isinstance(inner["page_codes"], list):
        raise CheckFailed("copy_form")
    sign1 = read_sign1(inner["document"], "copy")
    document = deterministic(sign1.payload, "document")
    fields = {"format", "issue_number", "certificate_type", "municipality", "issued_at", "binding"}
    if not isinstance(document, dict) or set(document) != {*fields, "pages", "content"}:
        raise CheckFailed("copy_form")
    if document["format"] != "koufu-document/2" or len(inner["page_codes"]) != document["pages"]:
        raise CheckFailed("copy_form")
    key_id = sign1.kid.hex()
    signer = keys.get(key_id)
    issued_at = dt.datetime.fromisoformat(document["issued_at"])
    if signer is None or not signer.usable(document["municipality"], issued_at, now):
        raise CheckFailed("untrusted_signer")
    signature = sign1.signature
    if not sign1.verify(signer):
        raise CheckFailed("bad_signature")
    if document["issue_number"] != issue_number:
        raise CheckFailed("issue_number_mismatch")
    if binding is not None and document["binding"] != dict(binding):
        raise CheckFailed("binding_mismatch")
    code = verification_code(signature)
    content_hash = hashlib.sha256(sign1.payload).hexdigest()
    pages = []
    if check_page_codes:
        if len(inner["page_codes"]) != document["pages"]:
            raise CheckFailed("page_code_count")
        for number, text in enumerate(inner["page_codes"], start=1):
            page = verify_page_code(text, keys, now)
            claim = page.page
            expected = {
                1: issue_number,
                2: number,
                3: document["pages"],
                4: document["certificate_type"],
                5: code,
                6: bytes.fromhex(content_hash),
            }
            if page.claims[1] != document["municipality"] or page.kid != sign1.kid:
                raise CheckFailed("page_code_signer")
            if page.claims[6] != int(issued_at.timestamp()):
                raise CheckFailed("page_code_iat")
            if {k: claim.get(k) for k in expected} != expected or set(claim) != {*expected, 7}:
                raise CheckFailed("page_code_page")
            if document["pages"] == 1 and claim[7] != single_page(document["content"]):
                raise CheckFailed("page_code_content")
            pages.append(page)
    return OpenedCopy(document, key_id, signature, inner["page_codes"], code, content_hash, pages)


def open_statement(
    kind: str,
    sealed: str,
    *,
    terminal_id: str,
    key: ec.EllipticCurvePrivateKey,
    keys: Mapping[str, PublishedKey],
    session_id: str | None,
    holder_certificate: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """§5.6 (``kind`` ``offer``) and §5.7 (``refusal``): the statement's ``content``, after its
    signer, signature, binding and freshness."""
    header = {"format": f"koufu-{kind}/3", "recipient": terminal_id}
    sign1 = read_sign1(open_envelope(b64url_decode(sealed), key, header), kind)
    statement = deterministic(sign1.payload, kind)
    fields = {"format", "municipality", "session_id", "terminal_id", "issued_at", "content"}
    if kind == "offer":
        fields.add("holder_certificate")
    if (
        not isinstance(statement, dict)
        or set(statement) != fields
        or statement["format"] != f"koufu-{kind}/3"
    ):
        raise CheckFailed(f"{kind}_form")
    signer = keys.get(sign1.kid.hex())
    if signer is None or not signer.usable(statement["municipality"], now):
        raise CheckFailed("untrusted_signer")
    if not sign1.verify(signer):
        raise CheckFailed("bad_signature")
    if statement["terminal_id"] != terminal_id:
        raise CheckFailed("binding_mismatch")
    if session_id is not None and statement["session_id"] != session_id:
        raise CheckFailed("binding_mismatch")
    if holder_certificate is not None and statement["holder_certificate"] != holder_certificate:
        raise CheckFailed("binding_mismatch")
    issued_at = dt.datetime.fromisoformat(statement["issued_at"])
    if not (now - OFFER_FRESH <= issued_at <= now + OFFER_AHEAD):
        raise CheckFailed("stale_statement")
    content = statement["content"]
    if not isinstance(content, dict):
        raise CheckFailed(f"{kind}_form")
    return content


# -- §4.1 the terminal's side ----------------------------------------------------------------


def resident_binding(session_id: str, terminal_id: str, challenge: bytes) -> bytes:
    """§4.1.3: what the card signs."""
    return f"koufu-resident-auth/1\n{session_id}\n{terminal_id}\n{challenge.hex()}".encode("ascii")


def holder_hash(certificate_der: bytes) -> str:
    return hashlib.sha256(certificate_der).hexdigest()


# -- §4.1.4, §4.1.5 with §5.7: a refusal the kiosk shows -------------------------------------

REFUSAL_CODE = re.compile(r"[a-z0-9_]{1,40}")


@dataclass(frozen=True)
class Refusal:
    """The municipality's reason about the person, as the kiosk shows it (the center saw only
    ``refused_by_municipality``)."""

    code: str
    message_ja: str
    message_en: str

    def shown(self) -> str:
        """What the screen says: the words in Japanese and in English, and the code for the counter."""
        return f"{self.message_ja}\n{self.message_en}\n({self.code})"


def read_refusal(
    answer: Any,
    *,
    terminal_id: str,
    key: ec.EllipticCurvePrivateKey,
    keys: Mapping[str, PublishedKey],
    session_id: str,
    now: dt.datetime,
) -> Refusal:
    """The sealed reason of the center's ``422 refused_by_municipality`` answer (an offer's or an
    order's): opened and checked as §5.7 says, its content exactly a code and its words."""
    if (
        not isinstance(answer, Mapping)
        or answer.get("error") != "refused_by_municipality"
        or not isinstance(answer.get("sealed"), str)
    ):
        raise CheckFailed("refusal_answer")
    content = open_statement(
        "refusal",
        answer["sealed"],
        terminal_id=terminal_id,
        key=key,
        keys=keys,
        session_id=session_id,
        holder_certificate=None,
        now=now,
    )
    if set(content) != {"code", "message_ja", "message_en"}:
        raise CheckFailed("refusal_form")
    code, words = content["code"], (content["message_ja"], content["message_en"])
    if not (isinstance(code, str) and REFUSAL_CODE.fullmatch(code)) or not all(
        isinstance(text, str) and 1 <= len(text) <= 500 for text in words
    ):
        raise CheckFailed("refusal_form")
    return Refusal(code, *words)


class Terminal:
    """One terminal's signed requests to the center (§4.1)."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: ec.EllipticCurvePrivateKey,
        *,
        ca_file: str,
        timeout: float = 30.0,
    ) -> None:
        self.terminal_id = terminal_id
        self.key = key
        self.http = httpx.Client(
            base_url=base_url, verify=ssl.create_default_context(cafile=ca_file), timeout=timeout
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        target: str,
        body: Any = None,
        *,
        created: int | None = None,
        nonce: str | None = None,
    ) -> httpx.Response:
        """A signed request; ``body`` (a JSON value) is sent as its canonical JSON, none as empty."""
        content = (
            b"" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        )
        headers = sign_headers(
            self.key, self.terminal_id, method, target, content, created=created, nonce=nonce
        )
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, target, content=content, headers=headers)

    def unsigned(self, method: str, target: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        return self.http.request(method, target, params=params)

    # the steps of §1.2

    def open_session(self) -> httpx.Response:
        return self.request("POST", "/v1/sessions")

    def send_proof(
        self, session_id: str, challenge_b64: str, certificate_der: bytes, card_sign: Callable[[bytes], bytes]
    ) -> httpx.Response:
        challenge = b64url_decode(challenge_b64)
        signature = card_sign(resident_binding(session_id, self.terminal_id, challenge))
        body = {"certificate": b64url_encode(certificate_der), "signature": b64url_encode(signature)}
        return self.request("POST", f"/v1/sessions/{session_id}/resident", body)
