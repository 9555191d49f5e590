"""The usage registration's wire forms (``documents/registration.py``): the application the card
signs (利用登録申請, deterministic CBOR, read strictly), the content sealed to the municipality,
and the municipality's status answer ``koufu-registration/1`` sealed to the terminal (opened only
there, for that session and card, from a trusted key, while fresh; any changed byte refused)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents import DocumentError, MunicipalKey, TrustList, b64url_encode
from documents.errors import BindingMismatch, MalformedDocument, NotForThisTerminal, UntrustedSigner
from documents.offer import open_offer
from documents.registration import (
    APPLICATION_FORMAT,
    REGISTRATION_LIFETIME,
    Application,
    application_bytes,
    open_registration_status,
    read_application,
    read_sealed_application,
    seal_registration_status,
    sealed_application,
)
from support.sealed_forms import SealedToTerminal

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
KEY = MunicipalKey.generate("271276")
TERMINAL = ec.generate_private_key(ec.SECP256R1())
HOLDER = "ab" * 32
FIELDS: dict[str, Any] = {
    "municipality": "271276",
    "session_id": "S-1",
    "terminal_id": "T-0001",
    "challenge": b"c" * 32,
    "auth_serial": 2**100 + 7,
    "domicile": "大阪府大阪市北区梅田二丁目十五番地",
    "head": "山田　太郎",
}
PENDING: dict[str, Any] = {
    "municipality": "271276",
    "name": "大阪市北区",
    "name_en": "Kita Ward",
    "status": "pending",
    "applied_at": "2026-11-24T01:00:00+00:00",
    "approves_at": "2026-11-30T15:00:00+00:00",
    "decided_at": None,
    "reason": None,
    "message_ja": None,
    "message_en": None,
}
DENIED: dict[str, Any] = {
    **PENDING,
    "status": "denied",
    "approves_at": None,
    "decided_at": "2026-11-24T01:00:00+00:00",
    "reason": "not_matched",
    "message_ja": "確認できませんでした。",
    "message_en": "You could not be found.",
}


def wire(value: Any) -> bytes:
    return bytes(cbor2.dumps(value, canonical=True))


def as_map(**changes: Any) -> dict[str, Any]:
    """The application's map as :func:`application_bytes` writes it, changed."""
    value = cbor2.loads(application_bytes(**FIELDS))
    value.update(changes)
    return {key: item for key, item in value.items() if item is not ...}


# -- the application ------------------------------------------------------------------------------


def test_an_application_is_one_deterministic_map_and_reads_back() -> None:
    data = application_bytes(**FIELDS)
    assert data == application_bytes(**FIELDS)  # one form
    value = cbor2.loads(data)
    assert value == {
        "format": APPLICATION_FORMAT,
        "municipality": "271276",
        "session_id": "S-1",
        "terminal_id": "T-0001",
        "challenge": b64url_encode(b"c" * 32),
        "auth_serial": str(2**100 + 7),
        "domicile": FIELDS["domicile"],
        "head": "山田　太郎",
    }
    assert wire(value) == data
    assert read_application(data) == Application(**FIELDS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("municipality", "27127"),
        ("session_id", ""),
        ("session_id", "S\n1"),
        ("terminal_id", "t-1"),
        ("challenge", b""),
        ("challenge", b"c" * 65),
        ("auth_serial", 0),
        ("auth_serial", 2**160),
        ("domicile", "　"),
        ("domicile", "あ" * 101),
        ("head", "山" * 41),
        ("head", "山田\x00太郎"),
    ],
)
def test_a_malformed_field_is_not_written(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        application_bytes(**{**FIELDS, field: value})


@pytest.mark.parametrize(
    "data",
    [
        wire(as_map(format="koufu-registration-application/2")),
        wire(as_map(extra="x")),
        wire(as_map(head=...)),
        wire(as_map(auth_serial="0123")),
        wire(as_map(auth_serial="12a")),
        wire(as_map(auth_serial=12)),
        wire(as_map(challenge="Y2M=")),  # padded
        wire(as_map(challenge="")),
        wire(as_map(municipality="ABCDEF")),
        wire(as_map(domicile="x" * 101)),
        wire(as_map(head={"nested": "map"})),
        cbor2.dumps(dict(reversed(as_map().items()))),  # not deterministic: keys out of order
        wire([as_map()]),
        wire(as_map())[:-1],
        wire(as_map()) + b"\x00",
        b"",
        wire(as_map(domicile="本" * 700)),  # over the size
    ],
)
def test_anything_but_one_application_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedDocument) as refused:
        read_application(data)
    assert "山田" not in str(refused.value) and "梅田" not in str(refused.value)  # nothing typed quoted


def test_the_sealed_content_carries_the_three_parts() -> None:
    content = sealed_application(b"app", b"sig", b"\x30cert")
    assert content["kind"] == "usage_registration"
    parts = read_sealed_application(content)
    assert (parts.application, parts.signature, parts.signing_certificate) == (b"app", b"sig", b"\x30cert")
    for changed in (
        {**content, "kind": "other"},
        {**content, "extra": "x"},
        {key: value for key, value in content.items() if key != "signature"},
        {**content, "signature": "YQ=="},
        {**content, "signature": ""},
        {**content, "signature": b64url_encode(b"s" * 513)},
        {**content, "application": 5},
    ):
        with pytest.raises(MalformedDocument):
            read_sealed_application(changed)


# -- the status answer ----------------------------------------------------------------------------


STATUS = SealedToTerminal(KEY, TERMINAL, NOW, HOLDER)


def sealed(content: dict[str, Any] = PENDING, **changes: Any) -> bytes:
    return seal_registration_status(content, **STATUS.sealing(**changes))


def opened(data: bytes, **changes: Any) -> dict[str, Any]:
    return open_registration_status(data, **STATUS.opening(**changes))


def test_a_status_opens_at_its_terminal_and_the_center_cannot_read_it() -> None:
    for content in (PENDING, DENIED):
        data = sealed(content)
        assert opened(data) == content
        assert "北区".encode() not in data and b"not_matched" not in data


@pytest.mark.parametrize(
    "content",
    [
        {**PENDING, "status": "unknown"},
        {**PENDING, "applied_at": "2026-11-24T01:00:00"},  # no offset
        {**PENDING, "approves_at": "tomorrow"},
        {**PENDING, "reason": "not_matched"},  # a reason for a pending one
        {**DENIED, "reason": None},  # a denial without one
        {**DENIED, "message_en": ""},
        {**PENDING, "municipality": "131016"},  # another municipality's
        {**PENDING, "extra": 1},
        {key: value for key, value in PENDING.items() if key != "name"},
    ],
)
def test_a_status_that_is_not_one_is_not_sealed(content: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sealed(content)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"terminal_id": "T-0002"}, NotForThisTerminal),
        ({"session_id": "S-2"}, BindingMismatch),
        ({"holder_certificate": "cd" * 32}, BindingMismatch),
        ({"trust": TrustList([MunicipalKey.generate("271276").trusted()])}, UntrustedSigner),
        ({"now": NOW + REGISTRATION_LIFETIME + dt.timedelta(seconds=1)}, MalformedDocument),
    ],
)
def test_a_status_is_opened_only_where_when_and_for_whom_it_was_sealed(
    changes: dict[str, Any], error: type[DocumentError]
) -> None:
    with pytest.raises(error):
        opened(sealed(), **changes)


def test_a_status_is_no_offer_and_an_offer_no_status() -> None:
    """The envelope's format is the statement's kind: a status does not open as an offer."""
    with pytest.raises(MalformedDocument):
        open_offer(
            sealed(),
            terminal_id="T-0001",
            terminal_key=TERMINAL,
            trust=TrustList([KEY.trusted()]),
            session_id="S-1",
            holder_certificate=HOLDER,
            now=NOW,
        )


@settings(max_examples=100, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_changed_byte_of_a_status_is_refused(data: st.DataObject) -> None:
    good = bytearray(sealed(DENIED))
    index = data.draw(st.integers(0, len(good) - 1))
    good[index] = data.draw(st.integers(0, 255).filter(lambda v: v != good[index]))
    with pytest.raises(DocumentError):
        opened(bytes(good))
