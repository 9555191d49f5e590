"""The municipality's offer to one resident and its refusal's reason, sealed to the terminal: opened
only by that terminal, for that session (and card), signed by a trusted key of that municipality,
while fresh; and no kind of envelope opens as another (a copy, an offer, a refusal)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents import DocumentError, MunicipalKey, TrustList, open_sealed, seal, sign
from documents.envelope import seal_statement
from documents.errors import (
    BindingMismatch,
    MalformedDocument,
    NotForThisTerminal,
    UndecryptableDocument,
    UntrustedSigner,
)
from documents.offer import OFFER_LIFETIME, open_offer, seal_offer
from documents.refusal import REFUSAL, RefusalReason, open_refusal, seal_refusal
from support.sample_documents import EXPECTED, ISSUED_AT, make_document, with_page_codes
from support.sealed_forms import SealedToTerminal

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
KEY = MunicipalKey.generate("131016")
TERMINAL = ec.generate_private_key(ec.SECP256R1())
HOLDER = "ab" * 32
CONTENT = {"household": [{"member": 3, "name": "佐藤　花子", "relationship": "世帯主"}], "tax_years": [2026]}


OFFERED = SealedToTerminal(KEY, TERMINAL, NOW, HOLDER)
REFUSED = SealedToTerminal(KEY, TERMINAL, NOW, None)  # a refusal is bound to the session only


def sealed(**changes: Any) -> bytes:
    return seal_offer(CONTENT, **OFFERED.sealing(**changes))


def opened(data: bytes, **changes: Any) -> dict[str, Any]:
    return open_offer(data, **OFFERED.opening(**changes))


def test_an_offer_opens_at_its_terminal_and_the_center_cannot_read_it() -> None:
    data = sealed()
    assert opened(data) == CONTENT
    assert "佐藤".encode() not in data and "花子".encode() not in data


@pytest.mark.parametrize(
    ("data", "changes", "error"),
    [
        (lambda: sealed(), {"terminal_id": "T-0002"}, NotForThisTerminal),
        (
            lambda: sealed(terminal_public_key=ec.generate_private_key(ec.SECP256R1()).public_key()),
            {},
            UndecryptableDocument,
        ),
        (lambda: sealed(), {"session_id": "S-2"}, BindingMismatch),
        (lambda: sealed(), {"holder_certificate": "cd" * 32}, BindingMismatch),
        (lambda: sealed(), {"trust": TrustList([])}, UntrustedSigner),
        (lambda: sealed(key=MunicipalKey.generate("131016")), {}, UntrustedSigner),
        (
            lambda: sealed(key=MunicipalKey.generate("131041")),
            {"trust": TrustList([MunicipalKey.generate("131016").trusted()])},
            UntrustedSigner,
        ),
        (lambda: sealed(), {"now": NOW + OFFER_LIFETIME + dt.timedelta(seconds=1)}, MalformedDocument),
        (lambda: sealed(), {"now": NOW - dt.timedelta(minutes=5)}, MalformedDocument),
        (lambda: b"{}", {}, MalformedDocument),
    ],
)
def test_refusals(data: Any, changes: dict[str, Any], error: type[DocumentError]) -> None:
    with pytest.raises(error):
        opened(data(), **changes)


@settings(max_examples=150, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_changed_byte_is_refused(data: st.DataObject) -> None:
    good = bytearray(sealed())
    index = data.draw(st.integers(0, len(good) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != good[index]))
    good[index] = value
    with pytest.raises(DocumentError):
        opened(bytes(good))


REASON = RefusalReason("not_issuable_here", "窓口でお尋ねください。", "Please ask at the counter.")


def sealed_refusal(**changes: Any) -> bytes:
    return seal_refusal(REASON, **REFUSED.sealing(**changes))


def opened_refusal(data: bytes, **changes: Any) -> RefusalReason:
    return open_refusal(data, **REFUSED.opening(**changes))


def fields(data: bytes) -> dict[str, Any]:
    value = cbor2.loads(data)
    assert isinstance(value, dict)
    return value


def wire(value: dict[str, Any]) -> bytes:
    return bytes(cbor2.dumps(value, canonical=True))


def flipped(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def test_the_envelopes_name_their_kind_and_recipient_and_carry_hpke_fields() -> None:
    for data, kind in ((sealed(), "koufu-offer/3"), (sealed_refusal(), "koufu-refusal/3")):
        assert set(fields(data)) == {"format", "recipient", "enc", "ciphertext"}
        assert fields(data)["format"] == kind and fields(data)["recipient"] == "T-0001"
        assert len(fields(data)["enc"]) == 65
    assert fields(sealed())["enc"] != fields(sealed())["enc"]  # a fresh encapsulation each time


def test_a_refusal_opens_at_its_terminal_and_the_center_cannot_read_it() -> None:
    data = sealed_refusal()
    assert opened_refusal(data) == REASON
    assert "窓口".encode() not in data and b"not_issuable_here" not in data


@pytest.mark.parametrize(
    ("data", "changes", "error"),
    [
        (lambda: sealed_refusal(), {"terminal_id": "T-0002"}, NotForThisTerminal),
        (
            lambda: sealed_refusal(terminal_public_key=ec.generate_private_key(ec.SECP256R1()).public_key()),
            {},
            UndecryptableDocument,
        ),
        (lambda: sealed_refusal(), {"session_id": "S-2"}, BindingMismatch),
        (lambda: sealed_refusal(), {"trust": TrustList([])}, UntrustedSigner),
        (lambda: sealed_refusal(), {"now": NOW + dt.timedelta(minutes=11)}, MalformedDocument),
        (lambda: sealed_refusal(), {"now": NOW - dt.timedelta(minutes=5)}, MalformedDocument),
        (lambda: wire({**fields(sealed_refusal()), "pad": b"x" * 9000}), {}, MalformedDocument),
        (lambda: b"\xff\xfe", {}, MalformedDocument),
        (
            lambda: seal_statement(
                REFUSAL,
                {"code": "Not A Code", "message_ja": "x", "message_en": "x"},
                key=KEY,
                session_id="S-1",
                terminal_id="T-0001",
                bindings={},
                terminal_public_key=TERMINAL.public_key(),
                now=NOW,
            ),
            {},
            MalformedDocument,
        ),
    ],
)
def test_refusal_refusals(data: Any, changes: dict[str, Any], error: type[DocumentError]) -> None:
    with pytest.raises(error):
        opened_refusal(data(), **changes)


def test_a_refusal_too_large_is_not_sealed() -> None:
    with pytest.raises(MalformedDocument):
        seal_refusal(
            RefusalReason("x", "あ" * 4000, "x"),
            key=KEY,
            session_id="S-1",
            terminal_id="T-0001",
            terminal_public_key=TERMINAL.public_key(),
            now=NOW,
        )


@pytest.mark.parametrize("name", ["enc", "ciphertext"])
@pytest.mark.parametrize("index", [1, 30, -1])
def test_a_flipped_bit_in_enc_or_ciphertext_is_refused(name: str, index: int) -> None:
    for data, open_ in ((sealed(), opened), (sealed_refusal(), opened_refusal)):
        envelope = fields(data)
        envelope[name] = flipped(envelope[name], index)
        with pytest.raises((UndecryptableDocument, MalformedDocument)) as info:
            open_(wire(envelope))
        # a changed ciphertext fails its tag; a changed enc is off the curve, or another point
        assert name == "enc" or type(info.value) is UndecryptableDocument


def test_no_kind_of_envelope_opens_as_another() -> None:
    """HPKE's info is the header, format first: relabelled as another kind (the fields that kind
    has, the same enc and ciphertext), an envelope derives another key and does not decrypt."""
    offer, refusal = fields(sealed()), fields(sealed_refusal())
    with pytest.raises(MalformedDocument):  # as it is: the format is checked first
        opened(wire(refusal))
    with pytest.raises(UndecryptableDocument):
        opened(wire({**refusal, "format": "koufu-offer/3"}))
    with pytest.raises(UndecryptableDocument):
        opened_refusal(wire({**offer, "format": "koufu-refusal/3"}))
    # an offer presented as a copy, and a copy as an offer
    document = make_document()
    trust = TrustList([KEY.trusted()])
    as_copy = {**offer, "format": "koufu-sealed/3", "issue_number": document.issue_number.text}
    with pytest.raises(UndecryptableDocument):
        open_sealed(
            wire(as_copy),
            terminal_id="T-0001",
            terminal_key=TERMINAL,
            trust=trust,
            expected=EXPECTED,
            now=ISSUED_AT,
        )
    copy_key = MunicipalKey.generate(document.municipality)
    copy = fields(seal(with_page_codes(sign(document, copy_key)), "T-0001", TERMINAL.public_key()))
    with pytest.raises(MalformedDocument):
        opened(wire(copy))
    as_offer = {name: value for name, value in copy.items() if name != "issue_number"}
    with pytest.raises(UndecryptableDocument):
        opened(wire({**as_offer, "format": "koufu-offer/3"}))
    with pytest.raises(UndecryptableDocument):
        opened_refusal(wire({**as_offer, "format": "koufu-refusal/3"}))


def test_relabelled_for_another_terminal_does_not_open() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    data = sealed(terminal_id="T-0002", terminal_public_key=other.public_key())
    with pytest.raises(NotForThisTerminal):
        opened(data)
    with pytest.raises(UndecryptableDocument):  # the recipient is in HPKE's info
        opened(wire({**fields(data), "recipient": "T-0001"}), terminal_key=other)
    assert opened(data, terminal_id="T-0002", terminal_key=other, session_id="S-1") == CONTENT


def test_a_key_not_p256_is_the_callers_mistake() -> None:
    with pytest.raises(ValueError):
        sealed(terminal_public_key=ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(ValueError):
        opened(sealed(), terminal_key=ec.generate_private_key(ec.SECP384R1()))
