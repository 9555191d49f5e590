"""Values of the authority's ``koufuPreviousSerials`` OCSP extension that a verifier must refuse,
each wrong in one way, for answers otherwise valid and signed by the CA (``center/previous_serials.py``)."""

from __future__ import annotations

from pyasn1.codec.der import encoder
from pyasn1.type import univ


def sequence_of(*items: univ.Asn1Item) -> bytes:
    """DER of a SEQUENCE OF the given values, of any type and any number (no size limit)."""
    value = univ.SequenceOf(componentType=items[0].clone() if items else univ.Integer())
    value.extend(items)
    return bytes(encoder.encode(value))


def integers(*serials: int) -> bytes:
    return sequence_of(*(univ.Integer(serial) for serial in serials))


def malformed(own_serial: int) -> dict[str, bytes]:
    """Why each value is refused → the extension's value (extnValue's content)."""
    return {
        "not a sequence": bytes(encoder.encode(univ.Integer(5))),
        "a sequence of octet strings": sequence_of(univ.OctetString(b"\x05")),
        "an empty sequence": integers(),
        "17 serials": integers(*range(1001, 1018)),
        "a zero serial": integers(1001, 0),
        "a negative serial": integers(-1001),
        "a serial of 21 bytes": integers(2**160),
        "a serial named twice": integers(1001, 1002, 1001),
        "the certificate's own serial": integers(1001, own_serial),
        "trailing bytes": integers(1001) + b"\x00",
        "a long-form length": b"\x30\x81\x03\x02\x01\x05",
        "a padded integer": b"\x30\x04\x02\x02\x00\x05",
        "nothing": b"",
    }
