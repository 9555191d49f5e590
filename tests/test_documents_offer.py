"""The municipality's offer to one resident, sealed to the terminal: opened only by that terminal,
for that session and card, signed by a trusted key of that municipality, while fresh."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents import DocumentError, MunicipalKey, TrustList
from documents.errors import (
    BindingMismatch,
    MalformedDocument,
    NotForThisTerminal,
    UndecryptableDocument,
    UntrustedSigner,
)
from documents.offer import OFFER_LIFETIME, open_offer, seal_offer

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
KEY = MunicipalKey.generate("131016")
TERMINAL = ec.generate_private_key(ec.SECP256R1())
HOLDER = "ab" * 32
CONTENT = {"household": [{"member": 3, "name": "佐藤　花子", "relationship": "世帯主"}], "tax_years": [2026]}


def sealed(**changes: Any) -> bytes:
    arguments: dict[str, Any] = {
        "key": KEY,
        "session_id": "S-1",
        "terminal_id": "T-0001",
        "holder_certificate": HOLDER,
        "terminal_public_key": TERMINAL.public_key(),
        "now": NOW,
    }
    arguments.update(changes)
    return seal_offer(CONTENT, **arguments)


def opened(data: bytes, **changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "terminal_id": "T-0001",
        "terminal_key": TERMINAL,
        "trust": TrustList([KEY.trusted()]),
        "session_id": "S-1",
        "holder_certificate": HOLDER,
        "now": NOW + dt.timedelta(seconds=30),
    }
    arguments.update(changes)
    return open_offer(data, **arguments)


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
