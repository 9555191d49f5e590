"""Deterministic CBOR (documents.cbor) and COSE_Sign1 (documents.cose): the one encoding and the
one signature construction of everything a municipality signs or seals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from documents import BadSignature, MalformedDocument, MunicipalKey, cbor, cose

plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-cbor.MAX_SAFE_INTEGER, cbor.MAX_SAFE_INTEGER)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=24,
)


def test_the_encoding_is_rfc_8949_core_deterministic() -> None:
    """Shortest forms, definite lengths, map keys in the bytewise order of their encodings."""
    value = {"b": 1, "a": [True, None, "日本"], "aa": {"z": -3, "y": False}, "": 24}
    expected = [
        "a4",  # a map of 4
        "60 1818",  # "": 24 (two bytes: the shortest form of 24)
        "6161 83f5f666e697a5e69cac",  # "a": [true, null, "日本"]
        "6162 01",  # "b": 1
        "626161 a26179f4617a22",  # "aa": {"y": false, "z": -3}
    ]
    assert cbor.encode(value).hex() == "".join(expected).replace(" ", "")
    assert cbor.encode({1: "x", -65537: 0, 6: 1}).hex() == "a3 016178 0601 3a0001000000".replace(" ", "")


@given(plain_values)
@settings(deadline=None, derandomize=True, database=None)
def test_a_plain_value_round_trips_and_has_one_form(value: Any) -> None:
    cbor.check_plain(value)
    data = cbor.encode(value)
    assert cbor.decode(data, what="value") == value
    if isinstance(value, dict):  # insertion order does not matter
        assert cbor.encode(dict(reversed(list(value.items())))) == data


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("a2616101616102", "CBOR within the limits"),  # {"a": 1, "a": 2}: a duplicate key
        ("9f01ff", "CBOR within the limits"),  # an indefinite-length array
        ("7f616161ff", "CBOR within the limits"),  # indefinite-length text
        ("1801", "deterministic"),  # 1 in two bytes
        ("190001", "deterministic"),  # 1 in three bytes
        ("a2616201616102", "deterministic"),  # {"b": 1, "a": 2}: keys out of order
        ("fb3ff0000000000000", "deterministic"),  # 1.0 as a double: its shortest form is a half
        ("61ff", "CBOR within the limits"),  # text that is not UTF-8
        ("0101", "deterministic"),  # an item followed by more
        ("8201", "CBOR within the limits"),  # cut short
        ("", "CBOR within the limits"),
        ("c11a5f5e1000", "deterministic"),  # tag 1: a date, read as a datetime, written otherwise
    ],
)
def test_decoding_refuses_what_is_not_one_deterministic_item(data: str, why: str) -> None:
    with pytest.raises(MalformedDocument, match=why):
        cbor.decode(bytes.fromhex(data), what="value")


def test_decoding_is_bounded_in_size_and_depth() -> None:
    assert cbor.decode(b"\x83\x01\x02\x03", max_bytes=4, what="value") == [1, 2, 3]
    with pytest.raises(MalformedDocument, match="over 3 bytes"):
        cbor.decode(b"\x83\x01\x02\x03", max_bytes=3, what="value")
    deep: Any = 0
    for _ in range(40):
        deep = [deep]
    with pytest.raises(MalformedDocument, match="within the limits"):
        cbor.decode(cbor.encode(deep), what="value")
    with pytest.raises(MalformedDocument, match="within the limits"):
        cbor.decode(b"\x81" * 100_000 + b"\x00", max_bytes=1 << 20, what="value")
    with pytest.raises(MalformedDocument, match="not a byte string"):
        cbor.decode("a0", what="value")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        1.0,
        {"fee": 200.0},
        float("nan"),
        (1, 2),
        {1: "a"},
        {"a": b"bytes"},
        cbor.MAX_SAFE_INTEGER + 1,
        -cbor.MAX_SAFE_INTEGER - 1,
        "\ud800",
        {"\udfff": 1},
        dt.date(2026, 1, 1),
        [1, [2.5]],
        {"a": {"b": {1, 2}}},
        cbor2.CBORTag(18, []),
        cbor2.undefined,
    ],
)
def test_plain_values_are_maps_lists_text_integers_booleans_and_null(value: Any) -> None:
    with pytest.raises(ValueError):
        cbor.check_plain(value)


def test_plain_values_hold_bytes_only_where_allowed_and_are_bounded_in_depth() -> None:
    cbor.check_plain({"enc": b"\x04"}, allow_bytes=True)
    deep: Any = "leaf"
    for _ in range(cbor.MAX_DEPTH):  # the leaf one deeper than the limit
        deep = [deep]
    with pytest.raises(ValueError, match="deeper"):
        cbor.check_plain(deep)
    cbor.check_plain(deep[0])


KEY = MunicipalKey.generate("131016")


def test_a_cose_sign1_is_rfc_9052_s_with_eddsa_and_the_key_id() -> None:
    signed = cose.sign1(cbor.encode({"a": 1}), KEY.key_id, KEY.private_key)
    item = cbor2.loads(signed.encoded())
    assert item.tag == 18
    protected, unprotected, payload, signature = item.value
    assert cbor2.loads(protected) == {1: -8, 4: bytes.fromhex(KEY.key_id)} and unprotected == {}
    assert payload == cbor.encode({"a": 1})
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    KEY.private_key.public_key().verify(signature, to_be_signed)
    read = cose.read_sign1(signed.encoded(), max_bytes=1024, what="statement")
    assert read == signed
    read.verify(KEY.private_key.public_key(), what="statement")


def forged(parts: list[Any], tag: int = 18) -> bytes:
    return cbor.encode(cbor2.CBORTag(tag, parts))


GOOD = cose.sign1(b"\xa0", KEY.key_id, KEY.private_key)
HEADER = GOOD.protected


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (forged([HEADER, {}, b"\xa0", GOOD.signature], tag=17), "tagged COSE_Sign1"),
        (cbor.encode([HEADER, {}, b"\xa0", GOOD.signature]), "tagged COSE_Sign1"),
        (forged([HEADER, {}, b"\xa0"]), "four parts"),
        (forged([HEADER, {4: b"x"}, b"\xa0", GOOD.signature]), "unprotected header is an empty map"),
        (forged([HEADER, {}, "a0", GOOD.signature]), "byte strings"),
        (forged([HEADER, {}, b"\xa0", GOOD.signature[:63]]), "64 bytes"),
        (forged([cbor.encode({1: -8}), {}, b"\xa0", GOOD.signature]), "exactly alg and kid"),
        (forged([cbor.encode({1: -8, 4: b"1234567"}), {}, b"\xa0", GOOD.signature]), "kid is 8 bytes"),
        (
            forged([cbor.encode({1: "EdDSA", 4: b"12345678"}), {}, b"\xa0", GOOD.signature]),
            "alg is an integer",
        ),
        (forged([b"\xa2\x04\x4812345678\x01\x27", {}, b"\xa0", GOOD.signature]), "deterministic"),
        (GOOD.encoded() + b"\x00", "deterministic"),
    ],
)
def test_reading_a_cose_sign1_refuses_every_other_form(data: bytes, why: str) -> None:
    with pytest.raises(MalformedDocument, match=why):
        cose.read_sign1(data, max_bytes=1024, what="statement")


def test_a_cose_sign1_verifies_only_with_eddsa_its_key_and_its_bytes() -> None:
    other = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(BadSignature, match="does not verify"):
        GOOD.verify(other.public_key(), what="statement")
    changed = cose.Sign1(GOOD.key_id, GOOD.algorithm, GOOD.protected, b"\xa1\x61\x61\x01", GOOD.signature)
    with pytest.raises(BadSignature, match="does not verify"):
        changed.verify(KEY.private_key.public_key(), what="statement")
    es256 = cose.Sign1(GOOD.key_id, -7, GOOD.protected, GOOD.payload, GOOD.signature)
    with pytest.raises(BadSignature, match="EdDSA"):
        es256.verify(KEY.private_key.public_key(), what="statement")
    with pytest.raises(MalformedDocument, match="over 10 bytes"):
        cose.read_sign1(GOOD.encoded(), max_bytes=10, what="statement")
