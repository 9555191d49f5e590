"""Municipal signing keys (Ed25519) and the trust list the center distributes to kiosks.

A municipality's issuance server holds a :class:`MunicipalKey`; the center collects the public
halves as :class:`TrustedKey` entries into a :class:`TrustList` (``koufu-trust/1``) and hands it to
every kiosk, which accepts a document only under a key of the document's own municipality.

A key id is the first 16 hex digits of SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from documents.basics import b64url_decode, b64url_encode
from documents.errors import MalformedDocument
from documents.issue_number import is_municipality_code
from documents.model import parse_moment

TRUST_FORMAT = "koufu-trust/1"
KEY_ID = re.compile(r"[0-9a-f]{16}")


def key_id_of(public_key: ed25519.Ed25519PublicKey) -> str:
    """First 16 lowercase hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]


@dataclass(frozen=True)
class MunicipalKey:
    """A municipality's signing key (公印に当たる署名鍵), private side. Never leaves its server."""

    municipality: str
    private_key: ed25519.Ed25519PrivateKey = field(repr=False)
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if not is_municipality_code(self.municipality):
            raise ValueError("the municipality code must be 6 digits")
        if not isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            raise TypeError("a municipal key is an Ed25519 private key")
        object.__setattr__(self, "key_id", key_id_of(self.private_key.public_key()))

    @classmethod
    def generate(cls, municipality: str) -> MunicipalKey:
        return cls(municipality, ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, municipality: str, raw: bytes) -> MunicipalKey:
        """From the raw 32-byte private key (as :meth:`private_bytes` gives it)."""
        return cls(municipality, ed25519.Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self.private_key.private_bytes_raw()

    @property
    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self.private_key.public_key()

    def trusted(self, not_after: dt.datetime | None = None) -> TrustedKey:
        """The public half as a trust-list entry."""
        return TrustedKey(self.municipality, self.public_key, not_after)


@dataclass(frozen=True)
class TrustedKey:
    """A trust-list entry: a municipality's public key, its key id, and optionally the last moment
    (``not_after``, aware) at which it may be used."""

    municipality: str
    public_key: ed25519.Ed25519PublicKey
    not_after: dt.datetime | None = None
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if not is_municipality_code(self.municipality):
            raise MalformedDocument("a trusted key's municipality must be 6 digits")
        if not isinstance(self.public_key, ed25519.Ed25519PublicKey):
            raise MalformedDocument("a trusted key is an Ed25519 public key")
        if self.not_after is not None and (
            not isinstance(self.not_after, dt.datetime) or self.not_after.utcoffset() is None
        ):
            raise MalformedDocument("not_after must be an aware datetime")
        object.__setattr__(self, "key_id", key_id_of(self.public_key))

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.not_after is None or moment <= self.not_after

    def to_json(self) -> dict[str, Any]:
        return {
            "municipality": self.municipality,
            "key_id": self.key_id,
            "public_key": b64url_encode(self.public_key.public_bytes_raw()),
            "not_after": None if self.not_after is None else self.not_after.isoformat(),
        }

    @classmethod
    def from_json(cls, value: Any) -> TrustedKey:
        """Strict: the four fields (``not_after`` may be null); the key id must be the key's own."""
        names = {"municipality", "key_id", "public_key", "not_after"}
        if type(value) is not dict or value.keys() != names:
            raise MalformedDocument(f"a trusted key is an object with exactly {sorted(names)}")
        try:
            raw = b64url_decode(value["public_key"])
            public_key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise MalformedDocument("public_key must be 32 bytes of Ed25519, base64url") from None
        not_after = None if value["not_after"] is None else parse_moment(value["not_after"], "not_after")
        key = cls(value["municipality"], public_key, not_after)
        if value["key_id"] != key.key_id:
            raise MalformedDocument("key_id is not the public key's own")
        return key


class TrustList(Mapping[str, TrustedKey]):
    """The municipal keys a kiosk accepts (信頼リスト): key id → :class:`TrustedKey`. Immutable."""

    def __init__(self, keys: Iterable[TrustedKey] = ()) -> None:
        table: dict[str, TrustedKey] = {}
        for key in keys:
            if not isinstance(key, TrustedKey):
                raise TypeError("a trust list holds TrustedKey entries")
            if key.key_id in table:
                raise MalformedDocument("a key id appears twice in the trust list")
            table[key.key_id] = key
        self._keys = MappingProxyType(table)

    def __getitem__(self, key_id: str) -> TrustedKey:
        return self._keys[key_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"TrustList({sorted(self._keys)})"

    def to_json(self) -> dict[str, Any]:
        """``{"format": "koufu-trust/1", "keys": [...]}``, keys in key-id order."""
        return {"format": TRUST_FORMAT, "keys": [self._keys[k].to_json() for k in sorted(self._keys)]}

    @classmethod
    def from_json(cls, value: Any) -> TrustList:
        if type(value) is not dict or value.keys() != {"format", "keys"} or value["format"] != TRUST_FORMAT:
            raise MalformedDocument(f"a trust list is {{'format': {TRUST_FORMAT!r}, 'keys': [...]}}")
        if type(value["keys"]) is not list:
            raise MalformedDocument("the trust list's keys must be a list")
        return cls(TrustedKey.from_json(entry) for entry in value["keys"])
