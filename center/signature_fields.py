"""The signature's fields as this profile's signers write them, read without a general parser.

Every signed request carries ``Content-Digest``, ``Signature-Input`` and ``Signature``, structured
fields (RFC 9651) that :mod:`center.signing` reads with a general parser (``http_sf``): any
spacing, member order, string escapes, several lines of one field. A signer of this profile
(:meth:`center.signing.Scheme.sign`, the kiosk's) writes them in exactly one form:

    sha-256=:<base64 of 32 bytes>:
    koufu=("@method" "@path" ...);created=<seconds>;keyid="…";alg="…";nonce="…";tag="…"
    koufu=:<base64>:

This module recognises that form and nothing else (no space but one between the covered names,
no escape in a string, canonical base64, the parameters in that order); a field in any other form
returns ``None`` and the general parser reads it, so what is refused, and why, is the general
parser's decision alone. What is recognised reads as the general parser reads it (the same
names, parameters in the same order, the same bytes): ``tests/test_signature_fields.py`` compares
the two on the vectors and on random and mutated fields. The general parser costs about a third
of a heartbeat's signature checks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

LABEL = "koufu"  # the signature's label in both fields (center.signing's)
# an sf-string with no escape (RFC 9651 §3.3.3: printable ASCII but ``"`` and ``\``)
_STRING = r'"([ !#-\[\]-~]*)"'
_NONEMPTY = r'"([ !#-\[\]-~]+)"'
_BASE64 = r"([A-Za-z0-9+/]*={0,2})"
_INPUT = re.compile(
    rf'{LABEL}=\(("[ !#-\[\]-~]*"(?: "[ !#-\[\]-~]*")*)\)'
    rf";created=(0|[1-9][0-9]{{0,14}});keyid={_NONEMPTY};alg={_STRING};nonce={_STRING};tag={_STRING}",
    re.ASCII,
)
_SIGNATURE = re.compile(rf"{LABEL}=:{_BASE64}:", re.ASCII)
_NAME = re.compile(_STRING, re.ASCII)


def _canonical_base64(text: str) -> bytes | None:
    """The bytes of ``text`` if it is base64 in its one canonical form (padded, no stray bits)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def digest_as_written(value: str, body: bytes) -> bool:
    """Whether ``value`` is exactly the ``Content-Digest`` a signer writes for ``body`` (then it is
    well formed and matches: nothing to parse)."""
    return value == f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode('ascii')}:"


def signature_as_written(
    signature_input: str, signature: str
) -> tuple[tuple[str, ...], dict[str, object], bytes] | None:
    """The covered names, the parameters (in the order written) and the signature's bytes of a
    ``Signature-Input`` and a ``Signature`` in the form a signer writes them; ``None`` for any
    other form (then the general parser decides)."""
    written = _INPUT.fullmatch(signature_input)
    signed = _SIGNATURE.fullmatch(signature)
    if written is None or signed is None:
        return None
    raw = _canonical_base64(signed[1])
    if raw is None:
        return None
    names, created, keyid, alg, nonce, tag = written.groups()
    covered = tuple(name[1] for name in _NAME.finditer(names))
    parameters: dict[str, object] = {
        "created": int(created),
        "keyid": keyid,
        "alg": alg,
        "nonce": nonce,
        "tag": tag,
    }
    return covered, parameters, raw
