"""Behaviour of the emulated card that vectors cannot show: persistence, profiles, signatures."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.card.profile import AID, InputSupportFile, JpkiFile
from hardware.card.tlv import parse_all, read_tlv
from hardware.cardsim.card import CONTACT_ATR, VirtualCard, pkcs1_v15_sign_raw
from hardware.cardsim.filesystem import check_number_b
from support.canaries import holds

SELECT_JPKI = bytes.fromhex("00A4040C0A") + AID.JPKI.value
SELECT_SUPPORT = bytes.fromhex("00A4040C0A") + AID.INPUT_SUPPORT.value


def select_ef(fid: int) -> bytes:
    return bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big")


def verify(value: str) -> bytes:
    return bytes((0x00, 0x20, 0x00, 0x80, len(value))) + value.encode()


def run(card: VirtualCard, *commands: bytes) -> bytes:
    """Send commands in order; every one but the last must answer 90 00."""
    for command in commands[:-1]:
        answer = card.process(command)
        assert answer[-2:] == b"\x90\x00", f"{command.hex()} -> {answer.hex()}"
    return card.process(commands[-1])


def test_atr_is_the_real_cards_and_has_a_valid_checksum(card: VirtualCard) -> None:
    assert card.power_on() == CONTACT_ATR
    check = 0
    for byte in CONTACT_ATR[1:]:
        check ^= byte
    assert check == 0  # TCK makes the XOR of T0..TCK zero


def test_lockout_after_three_wrong_pins_survives_removal(card_path: Path) -> None:
    card = VirtualCard.open(card_path)
    card.power_on()
    answers = [run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("0000")) for _ in range(3)]
    assert [a.hex() for a in answers] == ["63c2", "63c1", "63c0"]
    card.power_off()  # the resident takes the card to another store
    again = VirtualCard.open(card_path)
    again.power_on()
    assert run(again, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("1234")) == b"\x69\x84"
    assert again.process(bytes.fromhex("00200080")) == b"\x63\xc0"
    # the signing password is an independent key and still works
    assert run(again, select_ef(JpkiFile.SIGN_PIN), verify("ABC123")) == b"\x90\x00"


def test_counter_reaches_the_file_before_the_answer(card_path: Path) -> None:
    card = VirtualCard.open(card_path)
    card.power_on()
    run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("9999"))
    pins = json.loads(card_path.read_text())["pins"]
    assert pins["jpki.auth"]["tries_left"] == 2
    assert not holds(card_path.read_text(), "1234")  # reference data is stored hashed


def test_correct_pin_resets_the_counter_persistently(card_path: Path) -> None:
    card = VirtualCard.open(card_path)
    card.power_on()
    run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("9999"))
    run(card, verify("9998"))
    assert run(card, verify("1234")) == b"\x90\x00"
    assert VirtualCard.open(card_path).state.pins["jpki.auth"].tries_left == 3


def test_signature_is_pkcs1_v15_over_the_given_digest_info(card: VirtualCard) -> None:
    certificate = x509.load_der_x509_certificate(card.state.auth_cert)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"challenge")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + digest.finalize()
    answer = run(
        card,
        SELECT_JPKI,
        select_ef(JpkiFile.AUTH_PIN),
        verify("1234"),
        select_ef(JpkiFile.AUTH_KEY),
        bytes((0x80, 0x2A, 0x00, 0x80, len(digest_info))) + digest_info + b"\x00",
    )
    assert answer[-2:] == b"\x90\x00" and len(answer) == 258
    public_key = certificate.public_key()
    public_key.verify(answer[:-2], b"challenge", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]


def test_signature_input_limit_is_245_bytes(card: VirtualCard) -> None:
    run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("1234"), select_ef(JpkiFile.AUTH_KEY))
    ok = card.process(bytes.fromhex("802A008000") + (245).to_bytes(2, "big") + bytes(245))
    too_long = card.process(bytes.fromhex("802A008000") + (246).to_bytes(2, "big") + bytes(246))
    assert ok[-2:] == b"\x90\x00" and too_long == b"\x67\x00"


def test_raw_signing_matches_the_library(card: VirtualCard) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa, utils

    key = serialization.load_pem_private_key(card.state.auth_key_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    digest = bytes(range(32))
    expected = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    prefix = bytes.fromhex("3031300d060960864801650304020105000420")
    assert pkcs1_v15_sign_raw(key, prefix + digest) == expected


def test_signing_key_via_p2_short_file_id(card: VirtualCard) -> None:
    run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("1234"))
    answer = card.process(bytes.fromhex("802A00970300010200"))
    assert answer[-2:] == b"\x90\x00" and len(answer) == 258


def test_change_pin_needs_the_old_one_first(card_path: Path) -> None:
    card = VirtualCard.open(card_path)
    card.power_on()
    change = bytes.fromhex("0024018004") + b"4321"
    assert run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), change) == b"\x69\x82"
    assert run(card, verify("1234"), change) == b"\x90\x00"
    assert run(card, bytes.fromhex("0024018004") + b"43A1") == b"\x6a\x80"
    reloaded = VirtualCard.open(card_path)
    reloaded.power_on()
    assert run(reloaded, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("4321")) == b"\x90\x00"


def test_power_off_clears_the_security_state(card: VirtualCard) -> None:
    run(card, SELECT_JPKI, select_ef(JpkiFile.SIGN_PIN), verify("ABC123"))
    card.power_off()
    card.power_on()
    assert run(card, SELECT_JPKI, bytes.fromhex("00B0810004")) == b"\x69\x82"


def test_smartphone_token_hides_its_certificate_until_the_pin(android_card_path: Path) -> None:
    card = VirtualCard.open(android_card_path)
    card.power_on()
    label = run(card, SELECT_JPKI, bytes.fromhex("00B0860020"))
    assert label[:15] == b"JPKIAPGPSETOKEN"
    assert card.process(bytes.fromhex("00B08A0004")) == b"\x69\x82"
    answer = run(card, select_ef(JpkiFile.AUTH_PIN), verify("1234"), bytes.fromhex("00B08A0004"))
    assert answer[:2] == b"\x30\x82" and answer[-2:] == b"\x90\x00"


def test_input_support_files_follow_the_reference_layout(card: VirtualCard) -> None:
    holder = card.state.holder
    assert run(card, SELECT_SUPPORT, bytes.fromhex("00B0810000")) == b"\x69\x82"
    number = run(card, select_ef(InputSupportFile.PIN), verify("1234"), bytes.fromhex("00B0810000"))
    assert number == b"\xff\x10\x0c" + holder.my_number.encode() + b"\xff\xff\x90\x00"
    record = run(card, bytes.fromhex("00B0820000"))
    assert record[-2:] == b"\x90\x00"
    outer, end = read_tlv(record[:-2])
    assert outer.tag == 0xFF20 and end == len(record) - 2
    items = parse_all(outer.value)
    assert [item.tag for item in items] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    offsets = [int.from_bytes(items[0].value[i : i + 2], "big") for i in range(0, 8, 2)]
    file = record[:-2]
    assert [file[o : o + 2] for o in offsets] == [b"\xdf\x22", b"\xdf\x23", b"\xdf\x24", b"\xdf\x25"]
    assert items[1].value.decode() == holder.name and "\u3000" in holder.name
    assert items[3].value == holder.birth_date.encode() and len(items[3].value) == 8


def test_check_numbers_open_one_file_each(card: VirtualCard) -> None:
    holder = card.state.holder
    run(card, SELECT_SUPPORT, select_ef(InputSupportFile.CHECK_NUMBER_A), verify(holder.my_number))
    assert card.process(bytes.fromhex("00B0810000"))[-2:] == b"\x90\x00"
    assert card.process(bytes.fromhex("00B0820000")) == b"\x69\x82"
    run(card, SELECT_SUPPORT, select_ef(InputSupportFile.CHECK_NUMBER_B), verify(check_number_b(holder)))
    assert card.process(bytes.fromhex("00B0820000"))[-2:] == b"\x90\x00"


def test_command_chaining_reassembles_the_data(card: VirtualCard) -> None:
    run(card, SELECT_JPKI, select_ef(JpkiFile.AUTH_PIN), verify("1234"), select_ef(JpkiFile.AUTH_KEY))
    data = bytes.fromhex("3031300d060960864801650304020105000420") + bytes(32)
    assert card.process(bytes((0x90, 0x2A, 0x00, 0x80, 20)) + data[:20]) == b"\x90\x00"
    answer = card.process(bytes((0x80, 0x2A, 0x00, 0x80, len(data) - 20)) + data[20:] + b"\x00")
    assert answer[-2:] == b"\x90\x00" and len(answer) == 258


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=8))
def test_any_bytes_get_a_status_word_and_never_cost_a_try(commands: list[bytes]) -> None:
    card = _shared_card()
    card.power_on()
    card.process(SELECT_JPKI)
    card.process(select_ef(JpkiFile.AUTH_PIN))
    for command in commands:
        if len(command) > 5 and command[1] == 0x20:
            continue  # a real VERIFY with data may legitimately cost a try
        answer = card.process(command)
        assert len(answer) >= 2
    assert card.state.pins["jpki.auth"].tries_left == 3


_CARD: list[VirtualCard] = []


def _shared_card() -> VirtualCard:
    # hypothesis examples share one in-memory card (no state file): fixtures are per test
    if not _CARD:
        import tempfile

        from koufu.cards import issue_card

        directory = Path(tempfile.mkdtemp())
        state = issue_card(directory / "card.json", authority_dir=directory / "authority")
        _CARD.append(VirtualCard(state))
    return _CARD[0]
