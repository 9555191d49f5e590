"""Sealing to one terminal (端末宛の封緘): the envelope every sealed kind shares (a copy, an offer's
personal part, a refusal's reason), HPKE (RFC 9180) through ``cryptography``.

**Suite**: base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM (KEM 0x0010, KDF 0x0001,
AEAD 0x0002), to the terminal's EC P-256 key, single-shot (one message per encapsulation).

**Envelope** (a deterministic CBOR map, :mod:`documents.cbor`): the kind's *header* — ``format``
(the kind and its version, e.g. ``koufu-sealed/3``), ``recipient`` (the terminal id) and any
fields the kind adds (a copy's ``issue_number``), all text — then ``enc`` (a byte string: the
encapsulated key, the ephemeral public key as an uncompressed point, 65 bytes) and ``ciphertext``
(a byte string: AES-256-GCM's, the 16-byte tag last).

**Info**: HPKE's ``info`` is the deterministic CBOR of the header map, so the key itself depends on the
kind, the recipient and every header field: an envelope relabelled in any of them (an offer
presented as a copy, another terminal, another issue number) derives another key and does not
decrypt. The associated data is empty: ``cryptography``'s HPKE takes none (see
``docs/decisions.md``), and ``info`` binds the header as associated data would.

**Opening** accepts deterministic bytes only, then checks the envelope's fields
(:class:`MalformedDocument`), the recipient (:class:`NotForThisTerminal`) and decryption
(:class:`UndecryptableDocument`); the kinds check what is inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ec

from documents import cbor
from documents.errors import MalformedDocument, NotForThisTerminal, UndecryptableDocument

SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
ENC_BYTES = 65  # DHKEM(P-256)'s Nenc: an uncompressed point
TAG_BYTES = 16
SEALED_FIELDS = ("enc", "ciphertext")


@dataclass(frozen=True)
class Envelope:
    """A sealed envelope read, its fields checked, not yet opened."""

    header: dict[str, str]
    enc: bytes
    ciphertext: bytes

    @property
    def recipient(self) -> str:
        return self.header["recipient"]

    @property
    def info(self) -> bytes:
        return header_info(self.header)


def header_info(header: Mapping[str, str]) -> bytes:
    """HPKE's ``info`` for an envelope with this header: its deterministic CBOR."""
    return cbor.encode(dict(header))


def check_terminal_key(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> None:
    """``ValueError`` unless ``key`` is an EC P-256 key (the caller's mistake, not the envelope's):
    a terminal's, or a municipality's sealing key."""
    if not (
        isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        raise ValueError("sealing keys (a terminal's, a municipality's) are EC P-256")


def seal_envelope(
    plaintext: bytes,
    header: Mapping[str, str],
    terminal_public_key: ec.EllipticCurvePublicKey,
    *,
    max_bytes: int,
    what: str,
) -> bytes:
    """``plaintext`` sealed to the terminal under ``header``: the envelope's bytes.
    :class:`MalformedDocument` if they would exceed ``max_bytes``."""
    check_terminal_key(terminal_public_key)
    sealed = SUITE.encrypt(plaintext, terminal_public_key, info=header_info(header))
    envelope = cbor.encode({**header, "enc": sealed[:ENC_BYTES], "ciphertext": sealed[ENC_BYTES:]})
    if len(envelope) > max_bytes:
        raise MalformedDocument(f"the sealed {what} would exceed {max_bytes} bytes")
    return envelope


def read_envelope(
    sealed: bytes, *, format: str, header_names: tuple[str, ...], max_bytes: int, what: str
) -> Envelope:
    """The envelope's fields, if ``sealed`` is a deterministic envelope of ``format`` with exactly
    ``header_names`` and ``enc`` and ``ciphertext``; else :class:`MalformedDocument`."""
    names = frozenset((*header_names, *SEALED_FIELDS))
    value = cbor.decode(sealed, max_bytes=max_bytes, max_depth=1, what=f"sealed {what}")
    if type(value) is not dict or value.keys() != names:
        raise MalformedDocument(f"a sealed {what} is a map with exactly {sorted(names)}")
    if not all(type(value[name]) is str for name in header_names):
        raise MalformedDocument(f"every header field of a sealed {what} is text")
    if type(value["enc"]) is not bytes or type(value["ciphertext"]) is not bytes:
        raise MalformedDocument(f"enc and ciphertext of a sealed {what} are byte strings")
    if value["format"] != format:
        raise MalformedDocument(f"the format is not {format}")
    enc, ciphertext = value["enc"], value["ciphertext"]
    try:
        if len(enc) != ENC_BYTES or enc[0] != 4:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), enc)
    except ValueError:
        raise MalformedDocument("enc is not an uncompressed P-256 point") from None
    if len(ciphertext) < TAG_BYTES:
        raise MalformedDocument("the ciphertext is at least a tag")
    return Envelope({name: value[name] for name in header_names}, enc, ciphertext)


def open_envelope(
    envelope: Envelope, *, terminal_id: str, terminal_key: ec.EllipticCurvePrivateKey, what: str
) -> bytes:
    """The plaintext, if the envelope is for ``terminal_id`` and decrypts with its key."""
    check_terminal_key(terminal_key)
    if envelope.recipient != terminal_id:
        raise NotForThisTerminal(f"the {what} is sealed to another terminal")
    return decrypt_envelope(envelope, terminal_key, what=what, whose="this terminal's")


def decrypt_envelope(
    envelope: Envelope, private_key: ec.EllipticCurvePrivateKey, *, what: str, whose: str
) -> bytes:
    """The plaintext under the recipient's P-256 key (its recipient checked by the caller: a
    terminal's here, a municipality's in :mod:`documents.to_municipality`), or
    :class:`UndecryptableDocument` naming ``whose`` key it did not open with."""
    check_terminal_key(private_key)
    try:
        return SUITE.decrypt(envelope.enc + envelope.ciphertext, private_key, info=envelope.info)
    except (InvalidTag, ValueError):
        raise UndecryptableDocument(f"the {what} does not decrypt with {whose} key") from None
