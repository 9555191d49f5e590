"""Canonical JSON (正規化JSON): one byte string for one value, so that a signature over it means
one thing.

The form: UTF-8, object keys sorted (by code point), no whitespace, ``ensure_ascii=False`` (so only
``"``, ``\\`` and control characters are escaped, exactly as Python's ``json`` escapes them). Values
are objects with string keys, arrays, strings, integers, booleans and null, no deeper than
:data:`MAX_DEPTH`. No floats: amounts are integer yen. Integers stay within ±(2**53 - 1) so that any
JSON implementation reads them exactly (I-JSON, RFC 7493).

Binary values travel as unpadded URL-safe base64 (:func:`documents.basics.b64url_encode`); decoding
is strict, so one byte string has exactly one text form.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from documents.errors import MalformedDocument

MAX_DOCUMENT_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of ``value``; ``ValueError`` for anything outside the allowed types
    (floats, tuples, non-string keys, unpaired surrogates, integers beyond ±(2**53 - 1), too deep)."""
    _check(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def parse_json(data: bytes, limit: int = MAX_DOCUMENT_BYTES, *, canonical: bool = False) -> Any:
    """Parse JSON strictly: at most ``limit`` bytes of UTF-8, no duplicate keys, no NaN or Infinity,
    no floats, only values :func:`canonical_json` accepts. With ``canonical``, also require that
    ``data`` is exactly the canonical form of what it holds. Anything else: :class:`MalformedDocument`."""
    if not isinstance(data, bytes | bytearray):
        raise MalformedDocument("not a byte string")
    if len(data) > limit:
        raise MalformedDocument(f"more than {limit} bytes")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedDocument("not UTF-8") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_constant=_refuse_constant, parse_float=_refuse_float
        )
        _check(value)
    except MalformedDocument:
        raise
    except RecursionError:
        raise MalformedDocument("nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and _check's refusals
        raise MalformedDocument(f"not acceptable JSON: {_short(error)}") from None
    if canonical and canonical_json(value) != data:
        raise MalformedDocument("not in canonical form")
    return value


def _check(value: Any) -> None:
    """Refuse (``ValueError``) anything canonical JSON cannot carry; iterative, so depth is ours to limit."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH}")
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if type(item) is not int or abs(item) > MAX_SAFE_INTEGER:
                raise ValueError("integers must be plain int within ±(2**53 - 1)")
        elif isinstance(item, str):
            _check_text(item)
        elif type(item) is list:
            stack.extend((element, depth + 1) for element in item)
        elif type(item) is dict:
            for key, element in item.items():
                if not isinstance(key, str):
                    raise ValueError("object keys must be strings")
                _check_text(key)
                stack.append((element, depth + 1))
        elif isinstance(item, float):
            raise ValueError("floats are not allowed (amounts are integer yen)")
        else:
            raise ValueError(f"{type(item).__name__} is not a JSON value here")


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("strings must be valid Unicode (no unpaired surrogates)") from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedDocument("duplicate key in a JSON object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise MalformedDocument(f"{name} is not allowed")


def _refuse_float(text: str) -> NoReturn:
    raise MalformedDocument("floats are not allowed (amounts are integer yen)")


def _short(error: ValueError) -> str:
    """The error's first line, cut short: JSONDecodeError messages quote no data, ours none either."""
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__
