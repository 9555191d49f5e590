"""The QR payload of a printed page: round trip from a real signed document, the signature
checkable from the payload alone, and every damaged or foreign text refused with BadPayload."""

from __future__ import annotations

import pytest

from documents import MunicipalKey, OpenedDocument, hash_signature_message, sign
from printing.payload import BadPayload, PagePayload
from support.sample_documents import CHIYODA, make_document


@pytest.fixture(scope="module")
def chiyoda() -> MunicipalKey:
    return MunicipalKey.generate(CHIYODA)


def payload(key: MunicipalKey, page: int = 1) -> PagePayload:
    signed = sign(make_document(), key)
    opened = OpenedDocument(signed.document, signed.key_id, signed.signature, signed.verification_code)
    return PagePayload.of(opened, page)


def test_a_page_s_payload_round_trips_and_its_signature_checks_alone(chiyoda: MunicipalKey) -> None:
    original = payload(chiyoda)
    text = original.encode()
    assert text.startswith("KF1:") and len(text) < 260
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")  # QR alphanumeric mode
    assert PagePayload.decode(text) == original
    chiyoda.public_key.verify(original.signature, hash_signature_message(original.content_hash))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("KF1", "KF2", 1),
        lambda t: t + ":EXTRA",
        lambda t: t.rsplit(":", 1)[0],
        lambda t: t.replace(":01:", ":00:", 1),
        lambda t: ":".join([*t.split(":")[:2], f"{int(t.split(':')[3]) + 1:02d}", *t.split(":")[3:]]),
        lambda t: t[:-3] + "!!!",
        lambda t: t[:-8],
        lambda t: "x" * 1000,
        lambda t: t.replace("/", "-", 1),
        lambda t: "",
    ],
)
def test_damaged_or_foreign_codes_are_refused(chiyoda: MunicipalKey, mutate: object) -> None:
    text = payload(chiyoda).encode()
    with pytest.raises(BadPayload):
        PagePayload.decode(mutate(text))  # type: ignore[operator]
