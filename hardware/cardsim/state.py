"""The emulated card's persistent memory (EEPROM): keys, certificates, PINs, retry counters.

A real card remembers its retry counters across power-off and across terminals; so does this file.
Every change is written atomically (temporary file, fsync, rename) *before* the card answers, the
way a chip commits its counter to EEPROM before it sends the status word: pulling the card (or
killing the process) can never give a try back.

Reference data is kept as a salted SHA-256, not as the value itself.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.card.profile import PinPolicy

FORMAT = "koufu-card/1"


class CardStateError(Exception):
    """The card state file is missing, unreadable or not a koufu card."""


@dataclass
class ReferenceData:
    """One PIN or password on the card, with its retry counter (参照データ)."""

    policy: PinPolicy
    salt: bytes
    digest: bytes
    tries_left: int

    @classmethod
    def create(cls, policy: PinPolicy, value: bytes) -> ReferenceData:
        reason = policy.check(value)
        if reason:
            raise ValueError(reason)
        salt = secrets.token_bytes(16)
        return cls(policy, salt, _digest(salt, value), policy.max_tries)

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0

    def matches(self, value: bytes) -> bool:
        return hmac.compare_digest(_digest(self.salt, value), self.digest)

    def replace(self, value: bytes) -> None:
        self.salt = secrets.token_bytes(16)
        self.digest = _digest(self.salt, value)
        self.tries_left = self.policy.max_tries


def _digest(salt: bytes, value: bytes) -> bytes:
    return hashlib.sha256(salt + value).digest()


@dataclass
class HolderFacts:
    """What the input-support application holds (券面事項): My Number and the four basic facts."""

    my_number: str
    name: str
    address: str
    birth_date: str  # YYYYMMDD
    sex: str  # "1" male, "2" female, "9" not applicable
    card_expiry_year: str  # YYYY, part of 照合番号B
    security_code: str  # 4 digits printed on the card, part of 照合番号B


@dataclass
class CardState:
    """Everything the card keeps when it has no power."""

    label: str
    auth_cert: bytes
    auth_ca_cert: bytes
    auth_key_pem: bytes
    sign_cert: bytes | None
    sign_ca_cert: bytes | None
    sign_key_pem: bytes | None
    holder: HolderFacts
    pins: dict[str, ReferenceData] = field(default_factory=dict)
    auth_cert_needs_pin: bool = False  # smartphone tokens: the certificate itself is PIN-protected

    def to_json(self) -> dict[str, Any]:
        b64 = _b64
        return {
            "format": FORMAT,
            "label": self.label,
            "auth_cert_needs_pin": self.auth_cert_needs_pin,
            "auth_cert": b64(self.auth_cert),
            "auth_ca_cert": b64(self.auth_ca_cert),
            "auth_key": self.auth_key_pem.decode(),
            "sign_cert": b64(self.sign_cert) if self.sign_cert else None,
            "sign_ca_cert": b64(self.sign_ca_cert) if self.sign_ca_cert else None,
            "sign_key": self.sign_key_pem.decode() if self.sign_key_pem else None,
            "holder": dataclasses.asdict(self.holder),
            "pins": {
                key: {
                    "policy": ref.policy.name,
                    "salt": ref.salt.hex(),
                    "digest": ref.digest.hex(),
                    "tries_left": ref.tries_left,
                }
                for key, ref in self.pins.items()
            },
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], policies: dict[str, PinPolicy]) -> CardState:
        if doc.get("format") != FORMAT:
            raise CardStateError(f"not a {FORMAT} card state")
        try:
            pins = {}
            for key, ref in doc["pins"].items():
                policy = policies[key]
                tries = int(ref["tries_left"])
                if not 0 <= tries <= policy.max_tries:
                    raise CardStateError(f"retry counter of {key} out of range")
                pins[key] = ReferenceData(
                    policy, bytes.fromhex(ref["salt"]), bytes.fromhex(ref["digest"]), tries
                )
            return cls(
                label=doc["label"],
                auth_cert_needs_pin=bool(doc.get("auth_cert_needs_pin", False)),
                auth_cert=_unb64(doc["auth_cert"]),
                auth_ca_cert=_unb64(doc["auth_ca_cert"]),
                auth_key_pem=doc["auth_key"].encode(),
                sign_cert=_unb64(doc["sign_cert"]) if doc.get("sign_cert") else None,
                sign_ca_cert=_unb64(doc["sign_ca_cert"]) if doc.get("sign_ca_cert") else None,
                sign_key_pem=doc["sign_key"].encode() if doc.get("sign_key") else None,
                holder=HolderFacts(**doc["holder"]),
                pins=pins,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CardStateError(f"malformed card state: {exc}") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class CardStore:
    """Reads and atomically rewrites one card state file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self, policies: dict[str, PinPolicy]) -> CardState:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CardStateError(f"cannot read card state {self.path.name}: {exc}") from exc
        if not isinstance(doc, dict):
            raise CardStateError("card state is not a JSON object")
        return CardState.from_json(doc, policies)

    def save(self, state: CardState) -> None:
        text = json.dumps(state.to_json(), ensure_ascii=False, indent=1)
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=".card-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
