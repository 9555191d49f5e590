"""A software passkey: a WebAuthn authenticator written from the specification (an EC P-256
key, ``none`` attestation, authenticator data and client data as a browser assembles them), so
that the console's tests can sign in as each role with httpx, without a browser. The browser
tests use Chromium's own virtual authenticator instead.

It answers the console's options (``publicKey`` as the console sends it) like
``navigator.credentials.create`` and ``.get`` followed by ``toJSON()``; its arguments make the
answers a test needs that a browser would never send (another challenge, no user verification,
another origin)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, verified, attested data


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftPasskey:
    origin: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    sign_count: int = 0
    user_handle: bytes | None = None
    rp_id: str = ""

    def create(
        self, options: dict[str, Any], *, verified: bool = True, challenge: bytes | None = None
    ) -> dict[str, Any]:
        """The registration answer to ``options`` (``PublicKeyCredentialCreationOptions`` JSON)."""
        self.rp_id = options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        attested = (
            bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cbor2.dumps(cose)
        )
        data = self._authenticator_data(AT | (UV if verified else 0)) + attested
        client = self._client_data("webauthn.create", challenge or unb64url(options["challenge"]))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client),
                "attestationObject": b64url(cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": data})),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        verified: bool = True,
        challenge: bytes | None = None,
        origin: str | None = None,
    ) -> dict[str, Any]:
        """The authentication answer to ``options`` (``PublicKeyCredentialRequestOptions`` JSON)."""
        self.rp_id = options["rpId"]
        self.sign_count += 1
        data = self._authenticator_data(UV if verified else 0)
        client = self._client_data("webauthn.get", challenge or unb64url(options["challenge"]), origin)
        signature = self.key.sign(data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client),
            "authenticatorData": b64url(data),
            "signature": b64url(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }

    def _authenticator_data(self, flags: int) -> bytes:
        rp = hashlib.sha256(self.rp_id.encode()).digest()
        return rp + bytes([UP | flags]) + struct.pack(">I", self.sign_count)

    def _client_data(self, kind: str, challenge: bytes, origin: str | None = None) -> bytes:
        document = {
            "type": kind,
            "challenge": b64url(challenge),
            "origin": origin or self.origin,
            "crossOrigin": False,
        }
        return json.dumps(document).encode()
