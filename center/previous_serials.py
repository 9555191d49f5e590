"""The serials a renewed certificate replaced (更新の連鎖), as the authority states them in OCSP.

When the authority renews a certificate (new key, new serial), every OCSP answer it signs about
the new certificate carries the serials that certificate renewed, newest first, the whole chain
up to :data:`MAX_PREVIOUS_SERIALS` (beyond that the oldest are left out). A verifier that keys
something by serial (a municipality's registration of a resident) can follow a renewed card
from an answer it checked itself, signed by the certificate's own CA, whoever relayed it.

The extension is non-critical, in the response's ``responseExtensions`` (our answers hold exactly
one SingleResponse; ``cryptography`` cannot write ``singleExtensions``)::

    koufuPreviousSerials EXTENSION ::= { SYNTAX KoufuPreviousSerials
                                         IDENTIFIED BY id-koufu-previousSerials }
    id-koufu-previousSerials OBJECT IDENTIFIER ::=
        { joint-iso-itu-t uuid(25) 221310531224129355454702389958911844302 }
    KoufuPreviousSerials ::= SEQUENCE SIZE (1..16) OF CertificateSerialNumber  -- INTEGER

The OID is in the UUID arc (ITU-T X.667: the random UUID a67edb9f-f14b-4725-bd8a-e4c8aef5dfce
as an integer), which needs no registration. Encoded and decoded with ``pyasn1``; a value is
accepted only if it is the DER of such a sequence (re-encoding gives the same bytes), every
serial positive and at most 20 bytes, none twice, and not the certificate's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import constraint, univ

PREVIOUS_SERIALS_OID = x509.ObjectIdentifier("2.25.221310531224129355454702389958911844302")
MAX_PREVIOUS_SERIALS = 16
_MAX_SERIAL = 2**159  # RFC 5280 §4.1.2.2: positive, at most 20 octets


class MalformedPreviousSerials(ValueError):
    """The extension is not a list of earlier serials of this certificate."""


class _PreviousSerials(univ.SequenceOf):  # type: ignore[misc]
    componentType = univ.Integer()
    sizeSpec = constraint.ValueSizeConstraint(1, MAX_PREVIOUS_SERIALS)


def encode(serials: Sequence[int]) -> bytes:
    """The DER of ``KoufuPreviousSerials`` (1 to 16 serials, newest first)."""
    if not 1 <= len(serials) <= MAX_PREVIOUS_SERIALS:
        raise ValueError(f"1 to {MAX_PREVIOUS_SERIALS} previous serials, got {len(serials)}")
    value = _PreviousSerials()
    value.extend(serials)
    return bytes(encoder.encode(value))


def extension(serials: Sequence[int]) -> x509.UnrecognizedExtension:
    """The extension an OCSP answer carries about a certificate that renewed ``serials``."""
    return x509.UnrecognizedExtension(PREVIOUS_SERIALS_OID, encode(serials))


def decode(der: bytes, own_serial: int) -> tuple[int, ...]:
    """The serials of a ``KoufuPreviousSerials`` value about the certificate ``own_serial``, or
    :class:`MalformedPreviousSerials`."""
    try:
        value, rest = decoder.decode(der, asn1Spec=_PreviousSerials())
        serials = tuple(int(item) for item in value)
        canonical = bytes(encoder.encode(value))
    except (PyAsn1Error, TypeError, ValueError) as exc:
        raise MalformedPreviousSerials(f"not a SEQUENCE OF INTEGER: {exc}") from None
    if rest or canonical != der:
        raise MalformedPreviousSerials("not DER")
    if not 1 <= len(serials) <= MAX_PREVIOUS_SERIALS:
        raise MalformedPreviousSerials(f"{len(serials)} serials (1 to {MAX_PREVIOUS_SERIALS})")
    if not all(0 < serial < _MAX_SERIAL for serial in serials):
        raise MalformedPreviousSerials("a serial is not positive or longer than 20 bytes")
    if len(set(serials)) != len(serials):
        raise MalformedPreviousSerials("a serial is named twice")
    if own_serial in serials:
        raise MalformedPreviousSerials("the certificate's own serial is among its previous ones")
    return serials


def read(extensions: x509.Extensions, own_serial: int) -> tuple[int, ...]:
    """The previous serials stated in an OCSP answer's ``extensions`` (``()`` when absent);
    :class:`MalformedPreviousSerials` for a value that is not one."""
    try:
        found = extensions.get_extension_for_oid(PREVIOUS_SERIALS_OID)
    except x509.ExtensionNotFound:
        return ()
    value = found.value
    if not isinstance(value, x509.UnrecognizedExtension):  # pragma: no cover - no library knows it
        raise MalformedPreviousSerials("unexpected extension value")
    return decode(value.value, own_serial)
