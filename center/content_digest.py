"""The body's digest (RFC 9530 ``Content-Digest``): every signed request carries one, an empty body
too, and the signature covers it; the receiver compares it with the body before it trusts anything
else the request says.

The field is a structured-field dictionary of algorithm → byte sequence; a request sends
``sha-256``. A receiver requires ``sha-256``, checks ``sha-512`` as well when one is sent, and
ignores algorithms it does not know (RFC 9530 §2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import http_sf

from center.signature_fields import digest_as_written

HEADER_CONTENT_DIGEST = "Content-Digest"
CHECKED: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


class MalformedDigest(ValueError):
    """A Content-Digest that is not a dictionary of byte sequences with a ``sha-256`` member."""


class DigestMismatch(ValueError):
    """A Content-Digest that does not describe the body it came with."""


def content_digest(body: bytes) -> str:
    """The Content-Digest field value of ``body``: ``sha-256=:<base64>:``."""
    return digest_as_written(body)  # what http_sf.ser writes, without its general serialiser


def check_content_digest(value: str, body: bytes) -> None:
    """Raise :class:`MalformedDigest` or :class:`DigestMismatch` unless ``value`` describes ``body``."""
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary", on_duplicate_key=_refuse_twice)
    except (UnicodeEncodeError, http_sf.StructuredFieldError, MalformedDigest):
        raise MalformedDigest("Content-Digest is not a structured-field dictionary") from None
    assert isinstance(parsed, dict)
    members: dict[str, Any] = parsed
    if "sha-256" not in members:
        raise MalformedDigest("Content-Digest has no sha-256 member")
    for algorithm, digest in CHECKED.items():
        if algorithm not in members:
            continue
        sent, _parameters = members[algorithm]
        if not isinstance(sent, bytes):
            raise MalformedDigest(f"Content-Digest's {algorithm} is not a byte sequence")
        if sent != digest(body):
            raise DigestMismatch(f"the body does not match its {algorithm} digest")


def _refuse_twice(key: str, _context: str) -> None:
    raise MalformedDigest(f"{key} appears twice")
