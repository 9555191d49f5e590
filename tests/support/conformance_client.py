"""An independent minimal terminal client, written from ``docs/protocol.md`` and the vector files
only: it imports the standard library and general libraries (``httpx``, ``cryptography``,
``cbor2``, ``base45``), nothing of the project (``tests/test_conformance.py`` checks that with
:mod:`ast`). What it does, section by section of the specification:

- §2: canonical JSON, unpadded base64url (strict) for every binary value, standard base64 only in
  the signature's header fields (§3.1);
- §3.1: RFC 9421 signatures of its requests with the terminal's P-256 key over an RFC 9530
  ``Content-Digest``; it also verifies a signature (the vectors');
- §3.2: opening HPKE envelopes (DHKEM(P-256), HKDF-SHA256, AES-256-GCM, ``info`` = the header's
  canonical JSON);
- §4.1.3: the resident binding the card signs (the card itself is the caller's: a function);
- §5.3, §5.6: the municipality's Ed25519 signatures of a copy and of an offer against the
  published keys (§6.2), the binding, the issue number;
- §5.4: the verification code; §5.5: page codes (``KF2:`` Base45 → zlib → COSE_Sign1 → CWT).

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


def canonical_json(value: Any) -> bytes:
    """§2: sorted keys by code point, no whitespace, non-ASCII raw, only ``"``, ``\\`` and
    U+0000–U+001F escaped (Python's ``json`` does exactly that with these arguments)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CheckFailed("duplicate_key")
        result[key] = value
    return result


def parse_canonical(data: bytes) -> Any:
    """JSON that must be exactly the canonical form of what it holds (§2)."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckFailed("not_json") from error
    if canonical_json(value) != data:
        raise CheckFailed("not_canonical")
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
    """The plaintext of an envelope (its canonical JSON, not the base64url it travels as) whose
    header is exactly ``expected_header``."""
    envelope = parse_canonical(envelope_bytes)
    if not isinstance(envelope, dict) or not {"enc", "ciphertext"} <= set(envelope):
        raise CheckFailed("envelope_form")
    header = {name: value for name, value in envelope.items() if name not in ("enc", "ciphertext")}
    if header.get("recipient") != expected_header.get("recipient"):
        raise CheckFailed("not_for_this_terminal")
    if header != dict(expected_header):
        raise CheckFailed("envelope_header")
    enc, ciphertext = b64url_decode(envelope["enc"]), b64url_decode(envelope["ciphertext"])
    if len(enc) != 65:
        raise CheckFailed("envelope_form")
    try:
        return SUITE.decrypt(enc + ciphertext, key, info=canonical_json(header))
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


def _deterministic(raw: bytes) -> Any:
    try:
        value = cbor2.loads(raw)
    except Exception as error:
        raise CheckFailed("page_code_cbor") from error
    if cbor2.dumps(value, canonical=True) != raw:
        raise CheckFailed("page_code_not_deterministic")
    return value


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
    sign1 = _deterministic(cose)
    if not (isinstance(sign1, cbor2.CBORTag) and sign1.tag == 18 and len(sign1.value) == 4):
        raise CheckFailed("page_code_cose")
    protected_raw, unprotected, payload, signature = sign1.value
    protected = _deterministic(protected_raw)
    if unprotected != {} or set(protected) != {1, 4} or protected[1] != -8:
        raise CheckFailed("page_code_header")
    claims = _deterministic(payload)
    if not isinstance(claims, dict) or set(claims) != {1, 6, KOUFU_PAGE}:
        raise CheckFailed("page_code_claims")
    kid = protected[4]
    key = next((k for k in keys.values() if bytes.fromhex(k.key_id) == kid), None)
    iat = dt.datetime.fromtimestamp(claims[6], dt.UTC)
    if key is None or not key.usable(claims[1], iat, now):
        raise CheckFailed("page_code_untrusted_signer")
    to_sign = cbor2.dumps(["Signature1", protected_raw, b"", payload], canonical=True)
    if not _ed25519_ok(key.public_key, signature, to_sign):
        raise CheckFailed("page_code_bad_signature")
    return PageCode(kid, claims)


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
    header = {"format": "koufu-sealed/2", "issue_number": issue_number, "recipient": terminal_id}
    inner = parse_canonical(open_envelope(b64url_decode(sealed), key, header))
    if not isinstance(inner, dict) or set(inner) != {"document", "key_id", "signature", "page_codes"}:
        raise CheckFailed("copy_form")
    document = inner["document"]
    signer = keys.get(inner["key_id"])
    issued_at = dt.datetime.fromisoformat(document["issued_at"])
    if signer is None or not signer.usable(document["municipality"], issued_at, now):
        raise CheckFailed("untrusted_signer")
    canonical = canonical_json(document)
    signature = b64url_decode(inner["signature"])
    message = b"koufu-document-signature/2\n" + hashlib.sha256(canonical).digest()
    if not _ed25519_ok(signer.public_key, signature, message):
        raise CheckFailed("bad_signature")
    if document["issue_number"] != issue_number:
        raise CheckFailed("issue_number_mismatch")
    if binding is not None and document["binding"] != dict(binding):
        raise CheckFailed("binding_mismatch")
    code = verification_code(signature)
    content_hash = hashlib.sha256(canonical).hexdigest()
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
            if page.claims[1] != document["municipality"] or page.kid != bytes.fromhex(inner["key_id"]):
                raise CheckFailed("page_code_signer")
            if page.claims[6] != int(issued_at.timestamp()):
                raise CheckFailed("page_code_iat")
            if {k: claim.get(k) for k in expected} != expected or set(claim) != {*expected, 7}:
                raise CheckFailed("page_code_page")
            if document["pages"] == 1 and claim[7] != single_page(document["content"]):
                raise CheckFailed("page_code_content")
            pages.append(page)
    return OpenedCopy(document, inner["key_id"], signature, inner["page_codes"], code, content_hash, pages)


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
    header = {"format": f"koufu-{kind}/2", "recipient": terminal_id}
    inner = parse_canonical(open_envelope(b64url_decode(sealed), key, header))
    if not isinstance(inner, dict) or set(inner) != {kind, "key_id", "signature"}:
        raise CheckFailed(f"{kind}_form")
    statement = inner[kind]
    fields = {"format", "municipality", "session_id", "terminal_id", "issued_at", "content"}
    if kind == "offer":
        fields.add("holder_certificate")
    if (
        not isinstance(statement, dict)
        or set(statement) != fields
        or statement["format"] != f"koufu-{kind}/2"
    ):
        raise CheckFailed(f"{kind}_form")
    signer = keys.get(inner["key_id"])
    if signer is None or not signer.usable(statement["municipality"], now):
        raise CheckFailed("untrusted_signer")
    message = f"koufu-{kind}-signature/1\n".encode() + canonical_json(statement)
    if not _ed25519_ok(signer.public_key, b64url_decode(inner["signature"]), message):
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
        content = b"" if body is None else canonical_json(body)
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
