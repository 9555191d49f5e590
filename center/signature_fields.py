"""The signature's fields as this profile's signers write them, read and written without a
general structured-field parser or serialiser.

Every signed request carries ``Content-Digest``, ``Signature-Input`` and ``Signature``, structured
fields (RFC 9651) that :mod:`center.signing` reads with a general parser (``http_sf``): any
spacing, member order, string escapes, several lines of one field. A signer of this profile
(:meth:`center.signing.Scheme.sign`, the kiosk's) writes them in exactly one form:

    sha-256=:<base64 of 32 bytes>:
    koufu=("@method" "@path" ...);created=<seconds>;keyid="…";alg="…";nonce="…";tag="…"
    koufu=:<base64>:

:func:`signature_as_written` recognises that form and nothing else (no space but one between the
covered names, no escape in a string, an integer without a leading zero, canonical base64, the
parameters in that order, one member); a field in any other form returns ``None`` and the
general parser reads it, so what is refused, and why, is the general parser's decision alone. A
``Content-Digest`` is compared with the one written for the body, and parsed only when it
differs. Writing is the same: plain values are written here (:func:`params_as_written`), any
other by the general serialiser. ``tests/test_signature_fields.py`` checks that both read and
write alike, on the vectors and on random and mutated fields. The general parser and serialiser
cost about a third of a heartbeat's signature checks at the center, and most of a signer's time
besides the signature itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence

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


_PLAIN = re.compile(r"[ !#-\[\]-~]*", re.ASCII)  # a string written without an escape
_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*", re.ASCII)  # a parameter's name (RFC 9651 §3.1.2)


def plain(text: str) -> bool:
    """Whether ``text`` is written as a structured-field string without an escape."""
    return _PLAIN.fullmatch(text) is not None


def params_as_written(covered: Sequence[str], parameters: Mapping[str, object]) -> str | None:
    """The ``@signature-params`` value (the inner list and its parameters) as the general
    serialiser writes it, for plain values (strings that need no escape, integers of at most 15
    digits, not negative); ``None`` for any other value (then the general serialiser writes it)."""
    values = []
    for name, value in parameters.items():
        if not _KEY.fullmatch(name):
            return None
        if type(value) is int and 0 <= value < 10**15:
            values.append(f";{name}={value}")
        elif type(value) is str and plain(value):  # not http_sf's Token nor DisplayString
            values.append(f';{name}="{value}"')
        else:
            return None
    if not covered or not all(plain(name) for name in covered):
        return None
    return "(" + " ".join(f'"{name}"' for name in covered) + ")" + "".join(values)


def bytes_as_written(raw: bytes) -> str:
    """A byte sequence as a structured field writes it: ``:<base64>:``."""
    return f":{base64.b64encode(raw).decode('ascii')}:"


def _canonical_base64(text: str) -> bytes | None:
    """The bytes of ``text`` if it is base64 in its one canonical form (padded, no stray bits)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def digest_as_written(body: bytes) -> str:
    """The ``Content-Digest`` a signer writes for ``body``; a field exactly this is well formed and
    matches: nothing to parse."""
    return f"sha-256={bytes_as_written(hashlib.sha256(body).digest())}"


def signature_as_written(
    signature_input: str, signature: str
) -> tuple[tuple[str, ...], dict[str, object], bytes] | None:
    """The covered names, the parameters (in the order written) and the signature's bytes of a
    ``Signature-Input`` and a ``Signature`` in the form a signer writes them; ``None`` for any
    other form (then the general parser decides). The ``@signature-params`` of such a field is
    its text after ``koufu=``, as :func:`params_as_written` writes it."""
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
