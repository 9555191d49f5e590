"""The published municipal keys a verifier trusts (公開された市区町村の鍵), and each
municipality's name where the list gives one.

A verifier takes them from a file (``koufu verify --keys``) or from the center's verification
page (``/verify/keys.json``, :class:`printing.verify_store.CenterStatus.keys`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from documents import TrustedKey, TrustList
from documents.errors import MalformedDocument

__all__ = ["PublishedKeys", "key_list", "load_key_list", "load_keys"]


@dataclass(frozen=True)
class PublishedKeys:
    """The published municipal keys (a trust list) and, where given, each municipality's name."""

    trust: TrustList
    names: Mapping[str, str] = field(default_factory=dict)


def load_keys(source: str | Path | bytes) -> PublishedKeys:
    """Published municipal keys from a file (or its bytes): a list of keys as kiosks take them
    (``municipal-keys.json``, :func:`key_list`), a municipality's own ``public-key.json``, or a
    ``koufu-trust/1`` list. :class:`MalformedDocument` otherwise."""
    value = _json(source)
    if type(value) is dict and "format" in value:
        return PublishedKeys(TrustList.from_json(value))
    return key_list([value] if type(value) is dict else value)


def load_key_list(source: str | Path | bytes) -> PublishedKeys:
    """A ``municipal-keys.json`` (or its bytes) in its one form, :func:`key_list`: what the center
    publishes and what a kiosk is given."""
    return key_list(_json(source))


def key_list(value: object) -> PublishedKeys:
    """The one form of ``municipal-keys.json`` (``docs/protocol.md`` section 6.2): a JSON array of
    published keys, where an entry may add the municipality's ``name`` (1-40 characters).
    :class:`MalformedDocument` otherwise."""
    if type(value) is not list:
        raise MalformedDocument("the municipal keys are a list of published keys")
    keys: list[TrustedKey] = []
    names: dict[str, str] = {}
    for entry in value:
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


def _json(source: str | Path | bytes) -> object:
    try:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        return json.loads(raw)
    except (OSError, ValueError) as error:
        raise MalformedDocument(f"the municipal keys cannot be read: {type(error).__name__}") from None
