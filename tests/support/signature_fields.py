"""Rewriting a signed request's RFC 9421 fields, for the tests of their refusals."""

from __future__ import annotations

import http_sf

from center.content_digest import content_digest


def lowered(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def with_parameters(headers: dict[str, str], **changes: object) -> dict[str, str]:
    """``headers`` (lower-case names) whose ``koufu`` Signature-Input has its parameters changed
    (a value ``None`` removes one); the signature is left as it was."""
    parsed = http_sf.parse(headers["signature-input"].encode(), tltype="dictionary")
    assert isinstance(parsed, dict)
    covered, parameters = parsed["koufu"]
    for name, value in changes.items():
        if value is None:
            parameters.pop(name, None)
        else:
            parameters[name] = value
    return {**headers, "signature-input": http_sf.ser({"koufu": (covered, parameters)})}


def with_covered(headers: dict[str, str], covered: list[str]) -> dict[str, str]:
    """``headers`` (lower-case names) whose ``koufu`` Signature-Input covers ``covered``."""
    parsed = http_sf.parse(headers["signature-input"].encode(), tltype="dictionary")
    assert isinstance(parsed, dict)
    _covered, parameters = parsed["koufu"]
    inner = ([(name, {}) for name in covered], parameters)
    return {**headers, "signature-input": http_sf.ser({"koufu": inner})}


def with_body(headers: dict[str, str], body: bytes) -> dict[str, str]:
    """``headers`` (lower-case names) whose Content-Digest is ``body``'s: the digest matches, the
    signature is over the old one."""
    return {**headers, "content-digest": content_digest(body)}


def flipped(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` (lower-case names) with one bit of the signature flipped."""
    parsed = http_sf.parse(headers["signature"].encode(), tltype="dictionary")
    assert isinstance(parsed, dict)
    signature, parameters = parsed["koufu"]
    assert isinstance(signature, bytes)
    changed = bytes([signature[0] ^ 1]) + signature[1:]
    return {**headers, "signature": http_sf.ser({"koufu": (changed, parameters)})}
