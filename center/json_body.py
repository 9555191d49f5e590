"""What a request's body must say it is (both links, ``docs/protocol.md`` section 2).

A request with a body declares it JSON: ``Content-Type: application/json``, with no parameter but
an optional ``charset=utf-8`` (JSON is UTF-8, RFC 8259 §8.1). Anything else is refused with 415
``unsupported_media_type`` by the receiver, once the signature is checked and before the body is
read. The body may be JSON in any valid form, canonical or not (whitespace, key order, escapes):
the signature covers the bytes sent, through their ``Content-Digest``, not a form of them.
"""

from __future__ import annotations

JSON = "application/json"
_CHARSET_UTF8 = ("", "charset=utf-8", 'charset="utf-8"')


def declares_json(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` field (its lines joined, as received) is ``application/json``,
    optionally with ``charset=utf-8``; media type and parameter compared without regard to case."""
    if content_type is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    # RFC 9110 §8.3.1: parameters after ";" with optional whitespace around it, and may be empty
    return media_type == JSON and all(parameter in _CHARSET_UTF8 for parameter in parameters)
