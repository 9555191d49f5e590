"""Signed requests (署名付きリクエスト): HTTP Message Signatures (RFC 9421) over a body digest
(RFC 9530), one profile for both links that sign theirs: a terminal's requests to the center
(``ecdsa-p256-sha256``, :mod:`center.protocol`) and the center's requests to a municipality
(``ed25519``, :mod:`center.bridge_protocol`). A link is a :class:`Scheme`: its ``tag``, its
:class:`Algorithm`, the header fields of its scope and the words of its refusals.

Every signed request carries, besides the link's scope fields:

    Content-Digest: sha-256=:<base64 of SHA-256 of the body>:        (an empty body too)
    Signature-Input: koufu=("@method" "@path" "@query" "content-digest" <scope fields>)
        ;created=<seconds>;keyid="<signer>";alg="<algorithm>"
        ;nonce="<16 random bytes, base64url>";tag="<link>"
    Signature: koufu=:<base64 of the signature>:

signed over the signature base of RFC 9421 §2.5 (:meth:`Scheme.base`). ECDSA's signature is r‖s,
64 bytes (RFC 9421 §3.3.4), not DER.

The receiver checks, in this order: the three fields are there (``unsigned_request``); the body
matches its Content-Digest (``bad_digest``) before anything else the request says is trusted; the
fields are well formed structured fields (one ``koufu`` member each, no member twice), cover
exactly the link's components, name the link's algorithm and tag, a canonical nonce and a 64-byte
signature (``malformed_signature``); ``created`` within :data:`MAX_CLOCK_SKEW` of its clock
(``clock_skew``). The key, the signature and the nonce (each accepted once, its database keeps
them) are the link's to check: see :class:`SignedRequest`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from center.content_digest import (
    HEADER_CONTENT_DIGEST,
    DigestMismatch,
    MalformedDigest,
    check_content_digest,
    content_digest,
)
from center.signature_fields import (
    LABEL,
    bytes_as_written,
    params_as_written,
    signature_as_written,
)
from documents import b64url_decode, b64url_encode
from documents.sealing import MAX_SEALED_BYTES

HEADER_SIGNATURE_INPUT = "Signature-Input"
HEADER_SIGNATURE = "Signature"
#: the derived components and the digest every signed request covers, before its link's scope
COVERED = ("@method", "@path", "@query", "content-digest")
PARAMETERS = ("created", "keyid", "alg", "nonce", "tag")  # in the order a signer writes them
MAX_CLOCK_SKEW = dt.timedelta(seconds=120)
NONCE_BYTES = 16
NONCE_WORDS = "nonce must be 16 bytes in canonical base64url"
SIGNATURE_BYTES = 64  # r‖s of P-256, and Ed25519's
DIGEST_WORDS = "the body does not match its Content-Digest"

PrivateKey = TypeVar("PrivateKey")
PublicKey = TypeVar("PublicKey")


#: characters of a sealed copy's base64url (documents.MAX_SEALED_BYTES of envelope at most)
SEALED_CHARS = -(-MAX_SEALED_BYTES * 4 // 3)


def unb64url(text: str, *, longest: int = 8192) -> bytes:
    """Unpadded base64url of at most ``longest`` characters, in its one text form (§2 of the
    protocol: no padding, no other characters, no stray bits); ``ValueError`` on anything else."""
    if not isinstance(text, str) or not text or len(text) > longest:
        raise ValueError("not URL-safe base64")
    return b64url_decode(text)


def unsealed_b64url(text: str) -> bytes:
    """A sealed copy, offer or refusal as it travels (base64url): as long as the sealed format
    allows (a copy carries its pages' signed codes); ``ValueError`` on anything else."""
    return unb64url(text, longest=SEALED_CHARS)


def field_values(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header fields by lower-case name, the lines of a field sent more than once joined with
    ``", "`` (RFC 9110 §5.3), so a structured field's second line is parsed, never dropped."""
    joined: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


class SignatureRefused(Exception):
    """A request whose signature fields prove nothing (``code`` is stable, ``message`` the link's
    words); each link raises it again as its own refusal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Algorithm(Generic[PrivateKey, PublicKey]):
    """One link's algorithm: its name in RFC 9421's registry (the ``alg`` parameter), how its keys
    sign a signature base and check a signature (``check`` raises ``InvalidSignature``)."""

    name: str
    sign: Callable[[PrivateKey, bytes], bytes]
    check: Callable[[PublicKey, bytes, bytes], None]

    def verifies(self, public_key: PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            self.check(public_key, signature, message)
        except InvalidSignature:
            return False
        return True


def _ecdsa_sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _ecdsa_check(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> None:
    if len(signature) != SIGNATURE_BYTES:
        raise InvalidSignature
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))


def _ed25519_sign(key: ed25519.Ed25519PrivateKey, message: bytes) -> bytes:
    return key.sign(message)


def _ed25519_check(key: ed25519.Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    key.verify(signature, message)


ECDSA_P256_SHA256: Algorithm[ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey] = Algorithm(
    "ecdsa-p256-sha256", _ecdsa_sign, _ecdsa_check
)
ED25519: Algorithm[ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey] = Algorithm(
    "ed25519", _ed25519_sign, _ed25519_check
)


@dataclass(frozen=True)
class Words:
    """What a link's refusals say (their codes are the same on both links)."""

    missing: str  # unsigned_request
    malformed: str  # malformed_signature
    clock_skew: str  # clock_skew


@dataclass(frozen=True)
class Target:
    """The derived components a signature covers: ``@method``, ``@path`` and ``@query`` (``?`` and
    the query as sent; a bare ``?`` when the request has none, RFC 9421 §2.2.7)."""

    method: str
    path: str
    query: str = "?"

    @classmethod
    def of(cls, method: str, target: str) -> Target:
        """A request's target as a client writes it: the path, and ``?query`` if it has one."""
        path, mark, query = target.partition("?")
        return cls(method.upper(), path, f"?{query}" if mark else "?")


@dataclass(frozen=True)
class SignedHeaders:
    """What a signer adds to a request."""

    content_digest: str
    scope: tuple[tuple[str, str], ...]  # the link's scope fields, as sent
    signature_input: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            HEADER_CONTENT_DIGEST: self.content_digest,
            **dict(self.scope),
            HEADER_SIGNATURE_INPUT: self.signature_input,
            HEADER_SIGNATURE: self.signature,
        }


@dataclass(frozen=True)
class Credentials:
    """The ``koufu`` signature of one request whose body matched its digest, as parsed."""

    signer: str  # keyid
    covered: tuple[str, ...]
    parameters: Mapping[str, object]
    signature: object  # a byte sequence if well formed
    content_digest: str
    scope: tuple[str, ...]  # the values of the link's scope fields, as sent


@dataclass(frozen=True)
class SignedRequest(Generic[PublicKey]):
    """A request whose signature fields are well formed and fresh: what its signature covers."""

    signer: str
    nonce: str  # to be recorded: each is accepted once
    signature: bytes
    message: bytes  # the signature base the signer signed
    algorithm: Algorithm[Any, PublicKey]

    def verifies_with(self, public_key: PublicKey) -> bool:
        return self.algorithm.verifies(public_key, self.signature, self.message)


def _refuse_twice(key: str, _context: str) -> None:
    raise ValueError(f"{key} appears twice")


def _dictionary(value: str) -> dict[str, Any]:
    """A structured-field dictionary (RFC 9651) with no key twice, at any level."""
    parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary", on_duplicate_key=_refuse_twice)
    assert isinstance(parsed, dict)
    return parsed


def parsed_signature(
    signature_input: str, signature: str
) -> tuple[tuple[str, ...], Mapping[str, object], object]:
    """The covered names, the parameters and the signature (a byte sequence if well formed) of the
    ``koufu`` member of each field, read by a general structured-field parser; ``ValueError``
    unless both are dictionaries (no key twice, ASCII) with a ``koufu`` member, that of
    ``Signature-Input`` an inner list of names without parameters with a non-empty ``keyid``.
    (:func:`center.signature_fields.signature_as_written` reads the one form a signer writes
    the same way, without this parser.)"""
    # http_sf's errors are ValueErrors, as are a field not ASCII and a member twice
    inputs, signatures = _dictionary(signature_input), _dictionary(signature)
    if LABEL not in inputs or LABEL not in signatures:
        raise ValueError("no koufu member")
    covered, parameters = inputs[LABEL]
    if not isinstance(covered, list) or any(params for _name, params in covered):
        raise ValueError("not an inner list of names")
    keyid = parameters.get("keyid")
    if not isinstance(keyid, str) or not keyid:
        raise ValueError("no keyid")
    names = tuple(name if isinstance(name, str) else "" for name, _params in covered)
    return names, parameters, signatures[LABEL][0]


@dataclass(frozen=True)
class Scheme(Generic[PrivateKey, PublicKey]):
    """One link's signed requests: the tag naming the link, its algorithm, its scope fields (header
    names, covered after the digest) and its words."""

    tag: str
    algorithm: Algorithm[PrivateKey, PublicKey]
    words: Words
    scope_fields: tuple[str, ...] = ()

    @property
    def covered(self) -> tuple[str, ...]:
        return COVERED + tuple(name.lower() for name in self.scope_fields)

    @property
    def headers(self) -> tuple[str, ...]:
        """The header fields every signed request of the link carries."""
        return HEADER_CONTENT_DIGEST, *self.scope_fields, HEADER_SIGNATURE_INPUT, HEADER_SIGNATURE

    def signature_params(self, created: int, nonce: str, signer: str) -> str:
        """The ``@signature-params`` value: the covered components and the parameters, in order."""
        parameters = {"created": created, "keyid": signer, "alg": self.algorithm.name, "nonce": nonce}
        return self._serialised(self.covered, {**parameters, "tag": self.tag})

    @staticmethod
    def _serialised(covered: Sequence[str], parameters: Mapping[str, object]) -> str:
        written = params_as_written(covered, parameters)  # plain values, the usual: no general serialiser
        if written is not None:
            return written
        inner: Any = ([(name, {}) for name in covered], dict(parameters))
        return http_sf.ser({LABEL: inner}).removeprefix(f"{LABEL}=")

    def base(self, target: Target, digest: str, scope: Sequence[str], signature_params: str) -> bytes:
        """The signature base (RFC 9421 §2.5): one line per covered component, then
        ``@signature-params``; ``ValueError`` if a value cannot be written in it."""
        values = (target.method, target.path, target.query, digest, *scope)
        lines = [f'"{name}": {value}' for name, value in zip(self.covered, values, strict=True)]
        for value in values:
            if not (value.isascii() and value.isprintable()) or value != value.strip():
                raise ValueError("a covered value is not printable ASCII")
        return "\n".join([*lines, f'"@signature-params": {signature_params}']).encode("ascii")

    def sign(
        self,
        key: PrivateKey,
        signer: str,
        method: str,
        target: str,
        body: bytes,
        scope: Sequence[str] = (),
        *,
        now: dt.datetime | None = None,
        nonce: str | None = None,
    ) -> SignedHeaders:
        """The fields ``signer`` adds to a request for ``target`` (path and ``?query``), now (or at
        ``now``) with a new nonce (or ``nonce``); ``scope``: the values of the link's fields."""
        created = int((now or dt.datetime.now(dt.UTC)).timestamp())
        nonce = nonce or b64url_encode(secrets.token_bytes(NONCE_BYTES))
        digest = content_digest(body)
        params = self.signature_params(created, nonce, signer)
        signature = self.algorithm.sign(key, self.base(Target.of(method, target), digest, scope, params))
        return SignedHeaders(
            digest,
            tuple(zip(self.scope_fields, scope, strict=True)),
            f"{LABEL}={params}",
            f"{LABEL}={bytes_as_written(signature)}",
        )

    def credentials(self, headers: Mapping[str, str], body: bytes) -> Credentials:
        """The request's signature, once its body matched its digest (``headers``: names in
        lower case, see :func:`field_values`). ``unsigned_request`` if a field is missing or
        empty, ``bad_digest`` if the body is not the one digested, ``malformed_signature`` if the
        fields are not the structured fields RFC 9421 says, with one ``koufu`` member each."""
        values = [headers.get(name.lower(), "") for name in self.headers]
        if not all(values):
            raise SignatureRefused("unsigned_request", self.words.missing)
        digest, signature_input, signature = values[0], values[-2], values[-1]
        if digest != content_digest(body):  # as a signer writes it: nothing to parse
            try:
                check_content_digest(digest, body)
            except MalformedDigest:
                raise SignatureRefused("malformed_signature", self.words.malformed) from None
            except DigestMismatch:
                raise SignatureRefused("bad_digest", DIGEST_WORDS) from None
        fields: tuple[tuple[str, ...], Mapping[str, object], object] | None
        fields = signature_as_written(signature_input, signature)  # the form a signer writes
        if fields is None:  # any other form: the general parser reads it, or refuses it
            try:
                fields = parsed_signature(signature_input, signature)
            except ValueError:
                raise SignatureRefused("malformed_signature", self.words.malformed) from None
        names, parameters, raw = fields
        return Credentials(str(parameters["keyid"]), names, parameters, raw, digest, tuple(values[1:-2]))

    def check(
        self,
        credentials: Credentials,
        target: Target,
        now: dt.datetime,
    ) -> SignedRequest[PublicKey]:
        """The checks that need neither the signer's key nor a database: the profile
        (``malformed_signature``: these components, these parameters, this link's algorithm and
        tag, a canonical nonce, a 64-byte signature) and the signer's clock (``clock_skew``).
        Whether the scope fields name this receiver is the link's to check."""
        parameters, malformed = (
            credentials.parameters,
            SignatureRefused("malformed_signature", self.words.malformed),
        )
        if credentials.covered != self.covered or parameters.keys() != set(PARAMETERS):
            raise malformed
        if parameters["alg"] != self.algorithm.name or parameters["tag"] != self.tag:
            raise malformed
        created, nonce, signature = parameters["created"], parameters["nonce"], credentials.signature
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
            raise malformed
        if type(created) is not int or not isinstance(nonce, str):
            raise malformed
        try:
            nonce_raw = unb64url(nonce, longest=64)
        except ValueError:
            raise SignatureRefused("malformed_signature", NONCE_WORDS) from None
        if len(nonce_raw) != NONCE_BYTES or nonce != b64url_encode(nonce_raw):
            raise SignatureRefused("malformed_signature", NONCE_WORDS)
        sent = dt.datetime.fromtimestamp(created, dt.UTC) if abs(created) < 2**35 else None
        if sent is None or abs(sent - now) > MAX_CLOCK_SKEW:
            raise SignatureRefused("clock_skew", self.words.clock_skew)
        params = self._serialised(credentials.covered, parameters)
        try:
            message = self.base(target, credentials.content_digest, credentials.scope, params)
        except ValueError:
            raise malformed from None
        return SignedRequest(credentials.signer, nonce, signature, message, self.algorithm)
