"""Sealing by a terminal to a municipality (団体宛の封緘): what a resident tells their municipality
at a kiosk (e.g. their 本籍 and 筆頭者, to register the use of their registered domicile), which
the center relays and cannot read.

The envelope is the one every sealed kind shares (:mod:`documents.hpke_seal`: HPKE base mode,
DHKEM(P-256), HKDF-SHA256, AES-256-GCM; ``info`` the deterministic CBOR of the header), here to
the municipality's sealing key as its signed statement gives it (:mod:`documents.sealing_key`):

- header ``{"format": "koufu-to-municipality/1", "key_id": <the sealing key's id>, "recipient":
  <municipality code>, "session_id": <the kiosk's session>, "terminal_id": <the terminal>}`` —
  all text; in HPKE's ``info``, so an envelope relabelled for another municipality, key, session
  or terminal does not decrypt;
- plaintext: the deterministic CBOR of the content, a map of plain values (:func:`documents.cbor.
  check_plain`, no byte strings), at most :data:`MAX_SEALED_BYTES` sealed.

**Opening** (:func:`open_from_terminal`), each failure typed: the envelope's form and format
(:class:`MalformedDocument`), the recipient (:class:`NotForThisMunicipality`), the key
(:class:`UndecryptableDocument`: another of its keys), the session and the terminal against the
request that carried it (:class:`BindingMismatch`), decryption (:class:`UndecryptableDocument`),
the content's form (:class:`MalformedDocument`).

The terminal is not authenticated by the envelope (HPKE base mode: anyone may seal to a public
key); the request that carries it is the terminal's, signed and relayed by the center, and a
resident's own proof, where one is needed, is the content's to carry.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from documents import cbor
from documents.errors import BindingMismatch, MalformedDocument, NotForThisMunicipality, UndecryptableDocument
from documents.hpke_seal import decrypt_envelope, read_envelope, seal_envelope
from documents.issue_number import is_municipality_code, is_terminal_id
from documents.sealing_key import SealingKey, sealing_key_id

TO_MUNICIPALITY_FORMAT = "koufu-to-municipality/1"
MAX_SEALED_BYTES = 32 * 1024  # its base64url fits a request body of 64 KiB with room to spare
MAX_SESSION_ID = 128
_HEADER = ("format", "key_id", "recipient", "session_id", "terminal_id")
_WHAT = "sealed application"


def seal_to_municipality(
    content: Mapping[str, Any], sealing_key: SealingKey, *, session_id: str, terminal_id: str
) -> bytes:
    """``content`` sealed to the municipality of ``sealing_key`` (a key its statement gave, verified:
    :func:`documents.sealing_key.verify_sealing_key`), bound to the session and the terminal:
    the envelope's bytes. ``ValueError`` if the content is not a map of plain values or an id is
    malformed; :class:`MalformedDocument` if it would exceed :data:`MAX_SEALED_BYTES`."""
    if type(content) is not dict:
        raise ValueError("the content is a map")
    cbor.check_plain(content)
    if not is_terminal_id(terminal_id):
        raise ValueError("terminal ids are 1-32 of A-Z, 0-9 and '-'")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID:
        raise ValueError(f"a session id is 1-{MAX_SESSION_ID} characters")
    header = {
        "format": TO_MUNICIPALITY_FORMAT,
        "key_id": sealing_key.key_id,
        "recipient": sealing_key.municipality,
        "session_id": session_id,
        "terminal_id": terminal_id,
    }
    return seal_envelope(
        cbor.encode(content), header, sealing_key.public_key, max_bytes=MAX_SEALED_BYTES, what=_WHAT
    )


def open_from_terminal(
    sealed: bytes,
    *,
    municipality: str,
    sealing_key: ec.EllipticCurvePrivateKey,
    session_id: str,
    terminal_id: str,
) -> dict[str, Any]:
    """The content a terminal sealed to this municipality (``municipality``, its sealing key),
    if it was sealed in ``session_id`` by ``terminal_id`` (what the request carrying it says);
    else a :class:`~documents.errors.DocumentError`."""
    if not is_municipality_code(municipality):
        raise ValueError("the municipality code must be 6 digits")
    envelope = read_envelope(
        sealed, format=TO_MUNICIPALITY_FORMAT, header_names=_HEADER, max_bytes=MAX_SEALED_BYTES, what=_WHAT
    )
    header = envelope.header
    if header["recipient"] != municipality:
        raise NotForThisMunicipality("the application is sealed to another municipality")
    if header["key_id"] != sealing_key_id(sealing_key.public_key()):
        raise UndecryptableDocument("the application is sealed to another sealing key")
    for name, wanted in (("session_id", session_id), ("terminal_id", terminal_id)):
        if not hmac.compare_digest(header[name].encode(), wanted.encode()):
            raise BindingMismatch(name)
    plaintext = decrypt_envelope(envelope, sealing_key, what=_WHAT, whose="this municipality's sealing")
    content = cbor.decode(plaintext, max_bytes=MAX_SEALED_BYTES, what=_WHAT)
    if type(content) is not dict:
        raise MalformedDocument("the sealed application is a map")
    try:
        cbor.check_plain(content)
    except ValueError:
        raise MalformedDocument("the sealed application holds values that are not plain") from None
    return content
