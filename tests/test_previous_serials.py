"""The serials a renewed certificate replaced, as the authority's signed OCSP answers state them
(``koufuPreviousSerials``, ``center/previous_serials.py``) and as the verifiers read them: the
shared judge of OCSP answers and the municipality's check of the relayed card proof. The
center's own client is in ``test_authority_client.py``; the authority's answers in
``test_authority_ocsp.py``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import univ
from pyasn1_modules import rfc6960

from center import previous_serials
from center.jpki_verify import JudgedRevocation, RevocationStatus, UnusableRevocation, judge_ocsp
from center.municipal.holder_proof import HolderNotProven, HolderProof, ProvenHolder, prove_holder
from center.previous_serials import (
    MAX_PREVIOUS_SERIALS,
    PREVIOUS_SERIALS_OID,
    MalformedPreviousSerials,
    decode,
    encode,
)
from devtools.authority import card_key
from devtools.card_proofs import Card, Cards
from support.fixtures_authority import NOW
from support.previous_serials import integers, malformed

SESSION, TERMINAL = "S-0001", "T-0001"
BIRTH = dt.date(1980, 4, 1)


# -- the encoding --------------------------------------------------------------------------------


def test_the_oid_is_the_uuid_written_down() -> None:
    assert (
        PREVIOUS_SERIALS_OID.dotted_string == f"2.25.{uuid.UUID('a67edb9f-f14b-4725-bd8a-e4c8aef5dfce').int}"
    )


def test_the_value_is_the_der_of_a_sequence_of_integers() -> None:
    assert encode([5, 256]) == bytes.fromhex("30 07 02 01 05 02 02 01 00")
    assert encode([5, 256]) == integers(5, 256)  # as pyasn1 writes it, built apart from the code
    assert decode(encode([2**31 - 1, 5]), own_serial=6) == (2**31 - 1, 5)
    assert decode(integers(*range(1, 17)), own_serial=17) == tuple(range(1, 17))
    for wrong in ([], list(range(1, 18))):
        with pytest.raises(ValueError):
            encode(wrong)


@pytest.mark.parametrize("why", sorted(malformed(4242)))
def test_a_malformed_value_is_refused(why: str) -> None:
    with pytest.raises(MalformedPreviousSerials):
        decode(malformed(4242)[why], own_serial=4242)


# -- the verifiers, from real answers and from forged ones signed by the CA ----------------------


@pytest.fixture
def cards(tmp_path: Path) -> Iterator[Cards]:
    opened = Cards.open(tmp_path / "authority", NOW)
    yield opened
    opened.close()


def _renewed(cards: Cards, card: Card, key: int) -> Card:
    new_key = card_key(key)
    certificate = cards.authority.renew(
        card.certificate.serial_number, new_key.public_key(), birth_date=BIRTH, now=NOW
    )
    return Card(new_key, certificate)


def _forged(
    cards: Cards, card: Card, value: bytes | None, *, signer: int | None = None, critical: bool = False
) -> bytes:
    """A "good" answer about ``card`` signed by its CA (``signer``: by a forger's key under a
    CA certificate of the same name), with ``value`` as the previous serials."""
    ca = cards.authority.authority.issuer_of(card.certificate)
    key, responder = ca.key, ca.certificate
    if signer is not None:  # a forger's CA of the same name
        key = card_key(signer)
        responder = x509.CertificateBuilder(
            responder.subject,
            responder.subject,
            key.public_key(),
            1,
            responder.not_valid_before_utc,
            responder.not_valid_after_utc,
        ).sign(key, hashes.SHA256())
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            card.certificate,
            ca.certificate,
            hashes.SHA1(),
            ocsp.OCSPCertStatus.GOOD,
            NOW,
            NOW + dt.timedelta(minutes=10),
            None,
            None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
    )
    if value is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(PREVIOUS_SERIALS_OID, value), critical=critical
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _judge(cards: Cards, card: Card, answer: bytes) -> JudgedRevocation:
    issuer = cards.authority.authority.issuer_of(card.certificate).certificate
    return judge_ocsp(answer, card.certificate, issuer, NOW)


def _proven(cards: Cards, proof: HolderProof) -> ProvenHolder:
    """The holder ``proof`` proves in this module's session at its terminal, at ``NOW``."""
    return prove_holder(proof, session_id=SESSION, terminal_id=TERMINAL, anchors=cards.anchors, now=NOW)


def test_the_verifiers_read_the_chain_of_a_twice_renewed_card(cards: Cards) -> None:
    first = cards.card(None, municipality="131016")
    second = _renewed(cards, first, 1)
    third = _renewed(cards, second, 2)
    chain = (second.certificate.serial_number, first.certificate.serial_number)
    answer = cards.revocation(third.certificate, NOW)  # the authority's pre-produced answer
    assert _judge(cards, third, answer) == JudgedRevocation(RevocationStatus.GOOD, chain)
    proven = _proven(cards, cards.proof(third, SESSION, TERMINAL))
    assert proven.serial == third.certificate.serial_number and proven.previous_serials == chain
    superseded = _judge(cards, second, cards.revocation(second.certificate, NOW))
    assert superseded == JudgedRevocation(RevocationStatus.REVOKED, chain[1:])


def test_a_card_that_renewed_nothing_has_an_empty_chain(cards: Cards) -> None:
    card = cards.card(None, municipality="131016")
    assert _judge(cards, card, cards.revocation(card.certificate, NOW)).previous_serials == ()
    proven = _proven(cards, cards.proof(card, SESSION, TERMINAL))
    assert proven.previous_serials == ()


def test_a_chain_signed_by_the_ca_is_read_critical_or_not(cards: Cards) -> None:
    card = cards.card(None, municipality="131016")
    for critical in (False, True):
        answer = _forged(cards, card, encode([77, 78]), critical=critical)
        assert _judge(cards, card, answer).previous_serials == (77, 78)


@pytest.mark.parametrize("why", sorted(malformed(1)))
def test_a_malformed_chain_in_a_validly_signed_answer_is_refused(cards: Cards, why: str) -> None:
    card = cards.card(None, municipality="131016")
    value = malformed(card.certificate.serial_number)[why]
    answer = _forged(cards, card, value)
    with pytest.raises(UnusableRevocation, match="malformed previous serials"):
        _judge(cards, card, answer)
    proof = dataclasses.replace(cards.proof(card, SESSION, TERMINAL), revocation=answer)
    with pytest.raises(HolderNotProven) as refused:
        _proven(cards, proof)
    assert refused.value.code == "revocation_unusable"  # answered 403 holder_not_proven


def test_an_answer_whose_signature_does_not_verify_is_never_read(
    cards: Cards, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = cards.card(None, municipality="131016")
    read: list[int] = []
    real_read = previous_serials.read

    def spying(extensions: x509.Extensions, own_serial: int) -> tuple[int, ...]:
        read.append(own_serial)
        return real_read(extensions, own_serial)

    monkeypatch.setattr(previous_serials, "read", spying)
    for value in (encode([77]), malformed(card.certificate.serial_number)["a zero serial"]):
        forged = _forged(cards, card, value, signer=3)
        with pytest.raises(UnusableRevocation, match="signature does not verify"):
            _judge(cards, card, forged)
        proof = dataclasses.replace(cards.proof(card, SESSION, TERMINAL), revocation=forged)
        with pytest.raises(HolderNotProven, match="signature does not verify"):
            _proven(cards, proof)
    assert read == []
    assert _judge(cards, card, _forged(cards, card, encode([77]))).previous_serials == (77,)
    assert read == [
        card.certificate.serial_number
    ]  # the spy is in the path: a signed answer is read through it


def test_at_most_sixteen_are_ever_stated(cards: Cards) -> None:
    card = cards.card(None, municipality="131016")
    full = _forged(cards, card, integers(*range(1001, 1001 + MAX_PREVIOUS_SERIALS)))
    assert len(_judge(cards, card, full).previous_serials) == MAX_PREVIOUS_SERIALS


def test_an_answer_about_two_certificates_is_refused(cards: Cards) -> None:
    """Our answers hold one SingleResponse, so their extensions are about it alone; a signed
    answer with two is refused, not read (nor an error of the reader)."""
    card = cards.card(None, municipality="131016")
    ca = cards.authority.authority.issuer_of(card.certificate)
    outer, _ = der_decoder.decode(_forged(cards, card, encode([77])), asn1Spec=rfc6960.OCSPResponse())
    basic, _ = der_decoder.decode(
        bytes(outer["responseBytes"]["response"]), asn1Spec=rfc6960.BasicOCSPResponse()
    )
    responses = basic["tbsResponseData"]["responses"]
    responses.append(responses[0])
    signed = ca.key.sign(der_encoder.encode(basic["tbsResponseData"]), padding.PKCS1v15(), hashes.SHA256())
    basic["signature"] = univ.BitString.fromOctetString(signed)
    outer["responseBytes"]["response"] = univ.OctetString(der_encoder.encode(basic))
    with pytest.raises(UnusableRevocation, match="not exactly one answer"):
        _judge(cards, card, der_encoder.encode(outer))
