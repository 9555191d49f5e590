"""A municipality's settings and the center's issuance requests: read strictly, refused clearly;
the center's request signatures."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from center import bridge_protocol
from center.bridge_protocol import BridgeAuthError
from center.municipal.certificates import wareki, wareki_year
from center.municipal.offers import OfferRequest
from center.municipal.refusals import COUNTER_JA, RefusalCode, Refused
from center.municipal.requests import (
    BadIssueRequest,
    IssueRequest,
    RegisterScope,
    ResidentRecordOptions,
    TaxOptions,
)
from center.municipal.settings import MunicipalSettings, SettingsError, TaxKind
from center.municipal.strict import base64url_chars
from center.signing import Target
from documents import JST, CertificateType, b64url_decode, b64url_encode
from support.signature_fields import with_body, with_parameters

SETTINGS: dict[str, Any] = {
    "municipality": "131016",
    "name": "千代田区",
    "name_en": "Chiyoda City",
    "prefecture": "東京都",
    "mayor": "千代田区長　山田　太郎",
    "minimum_age": 15,
    "max_copies": 10,
    "certificates": {
        "resident_record": {"fee": 200, "my_number": True},
        "seal_registration": {"fee": 200, "max_copies": 5},
        "tax": {"fee": 300, "kinds": ["income", "combined"], "years": 3},
        "family_register": {
            "fee": 450,
            "hours": {"weekdays_only": True, "opens": "09:00", "closes": "17:00"},
        },
    },
}

REQUEST: dict[str, Any] = {
    "order_id": "O-1",
    "session_id": "0b5c3a8e-1",
    "terminal_id": "T-0001",
    "store": "千代田神田店",
    "printer": 1,
    "holder_proof": {"certificate": "MIIB", "signature": "c2ln", "challenge": "Y2g", "revocation": "MIIB"},
    "terminal_certificate": "MIIB",
    "items": [
        {
            "certificate_type": "resident_record",
            "copies": 2,
            "options": {"members": [3, 4], "head_and_relationship": True},
        },
        {"certificate_type": "tax", "copies": 1, "options": {"kind": "combined", "tax_year": 2026}},
        {"certificate_type": "family_register", "copies": 1, "options": {"scope": "individual"}},
        {"certificate_type": "seal_registration", "copies": 1, "options": {}},
    ],
}


def test_settings_round_trip_and_meaning() -> None:
    settings = MunicipalSettings.from_json(SETTINGS)
    assert MunicipalSettings.from_json(settings.to_json()) == settings
    register = settings.offer(CertificateType.FAMILY_REGISTER)
    assert register is not None and register.hours is not None
    saturday_noon = dt.datetime(2026, 11, 21, 12, 0, tzinfo=JST)
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=JST)
    assert not register.hours.allows(saturday_noon) and register.hours.allows(monday_noon)
    assert not register.hours.allows(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC))  # 17:00 in Japan
    assert settings.offer(CertificateType.FAMILY_REGISTER_ATTACHMENT) is None
    # a tax year's certificates from June: in May the newest is last year's
    assert settings.tax_years_offered(dt.date(2026, 5, 31)) == (2025, 2024, 2023)
    assert settings.tax_years_offered(dt.date(2026, 6, 1)) == (2026, 2025, 2024)


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("municipality",), "131017", "check digit"),
        (("minimum_age",), "15", "integer"),
        (("minimum_age",), True, "integer"),
        (("certificates", "tax", "kinds"), ["income", "income"], "each once"),
        (("certificates", "tax", "kinds"), ["wealth"], "kinds"),
        (("certificates", "tax", "years"), 9, "years"),
        (("certificates", "seal_registration", "fee"), 1_000_000, "fee"),
        (("certificates", "seal_registration", "my_number"), True, "unknown key 'my_number'"),
        (("certificates", "family_register", "hours", "opens"), "9am", "HH:MM"),
        (("certificates", "family_register", "hours", "closes"), "08:00", "before closes"),
        (("certificates", "passport"), {"fee": 1}, "unknown certificate"),
        (("extra",), 1, "unknown key 'extra'"),
    ],
)
def test_bad_settings_are_refused_naming_the_place(path: tuple[str, ...], value: object, words: str) -> None:
    document = copy.deepcopy(SETTINGS)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SettingsError, match=words):
        MunicipalSettings.from_json(document)
    with pytest.raises(SettingsError, match="not JSON"):
        MunicipalSettings.loads("{")


def test_requests_round_trip() -> None:
    request = IssueRequest.from_json(REQUEST)
    assert IssueRequest.from_json(request.to_json()) == request
    first, tax, register, _seal = request.items
    assert first.options == ResidentRecordOptions(members=(3, 4), head_and_relationship=True)
    assert tax.options == TaxOptions(TaxKind.COMBINED, 2026)
    assert register.options.scope is RegisterScope.INDIVIDUAL  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r.update(order_id="O 1"), "order_id: malformed"),
        (lambda r: r.update(terminal_id="t-1"), "terminal_id: malformed"),
        (lambda r: r.update(printer=0), "printer"),
        # the serial is the checked certificate's: a center cannot name one
        (lambda r: r.update(certificate_serial=1234), "unknown key 'certificate_serial'"),
        (lambda r: r["holder_proof"].pop("signature"), "holder_proof.signature"),
        (lambda r: r["holder_proof"].update(revocation="no t"), "revocation: not unpadded base64url"),
        # unpadded base64url only: no padding, not the standard alphabet, no stray bits
        (lambda r: r["holder_proof"].update(challenge="Y2g="), "challenge: not unpadded base64url"),
        (lambda r: r["holder_proof"].update(certificate="MII+"), "certificate: not unpadded base64url"),
        (lambda r: r["holder_proof"].update(signature="c2l/"), "signature: not unpadded base64url"),
        (lambda r: r["holder_proof"].update(challenge="Y2h"), "challenge: not unpadded base64url"),
        (lambda r: r["holder_proof"].update(serial=1234), "unknown key 'serial'"),
        (lambda r: r.update(items=[]), "1 to 10 items"),
        (lambda r: r.update(terminal_certificate="MII B"), "not unpadded base64url"),
        (lambda r: r.update(terminal_certificate="MIIB=="), "not unpadded base64url"),
        (lambda r: r.update(terminal_certificate=""), "terminal_certificate: 1-4096 bytes"),
        (lambda r: r.update(terminal_certificate=4096), "terminal_certificate: wrong type"),
        (lambda r: r.update(surprise=1), "unknown key 'surprise'"),
        (lambda r: r.pop("store"), "store: missing"),
        (lambda r: r["items"][0].update(copies=0), "copies"),
        (lambda r: r["items"][0].update(certificate_type="passport"), "certificate_type: unknown"),
        (lambda r: r["items"][0]["options"].update(members=[3, 3]), "distinct"),
        (lambda r: r["items"][0]["options"].update(members=[]), "distinct"),
        (lambda r: r["items"][0]["options"].update(members=["3"]), "distinct"),
        (lambda r: r["items"][0]["options"].update(my_number="yes"), "wrong type"),
        (lambda r: r["items"][1]["options"].update(kind="wealth"), "kind: unknown"),
        (lambda r: r["items"][2]["options"].update(scope="half"), "full or individual"),
        (lambda r: r["items"][3]["options"].update(members=None), "unknown key 'members'"),
    ],
)
def test_bad_requests_are_refused_naming_the_place(change: Any, words: str) -> None:
    document = copy.deepcopy(REQUEST)
    change(document)
    with pytest.raises(BadIssueRequest, match=words):
        IssueRequest.from_json(document)


# the byte limits docs/protocol.md (4.2.2) states for each binary field of a municipal request
BINARY_FIELDS = [
    (("holder_proof", "certificate"), 8192),
    (("holder_proof", "signature"), 512),
    (("holder_proof", "challenge"), 64),
    (("holder_proof", "revocation"), 16384),
    (("terminal_certificate",), 4096),
]


def _with_bytes(path: tuple[str, ...], size: int, *, text: str | None = None) -> dict[str, Any]:
    document = copy.deepcopy(REQUEST)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = (
        b64url_encode(bytes(range(256)) * (size // 256) + bytes(size % 256)) if text is None else text
    )
    return document


@pytest.mark.parametrize(("path", "limit"), BINARY_FIELDS)
def test_each_binary_field_takes_up_to_its_byte_limit_and_no_more(path: tuple[str, ...], limit: int) -> None:
    """The reader's cap is each field's own: a value of exactly its limit is read whole (the OCSP
    answer's 16 KiB included), one byte more is refused, and so is a text longer than the limit's
    characters, before it is decoded."""
    request = IssueRequest.from_json(_with_bytes(path, limit))
    value = request.to_json()
    for key in path:
        value = value[key]
    assert len(b64url_decode(value)) == limit
    assert IssueRequest.from_json(request.to_json()) == request
    where = ".".join(path)
    with pytest.raises(BadIssueRequest, match=f"{where}: 1-{limit} bytes"):
        IssueRequest.from_json(_with_bytes(path, limit + 1))
    with pytest.raises(BadIssueRequest, match=f"{where}: 1-{limit} bytes"):
        IssueRequest.from_json(_with_bytes(path, 0, text="A" * (base64url_chars(limit) + 1)))
    with pytest.raises(BadIssueRequest, match=f"{where}: 1-{limit} bytes"):
        IssueRequest.from_json(_with_bytes(path, 0))


def test_the_offer_request_reads_its_binary_fields_alike() -> None:
    document = {key: REQUEST[key] for key in ("session_id", "terminal_id", "holder_proof")}
    revocation = b64url_encode(bytes(16384))
    offered = OfferRequest.from_json(
        {
            **document,
            "holder_proof": {**REQUEST["holder_proof"], "revocation": revocation},
            "terminal_certificate": "MIIB",
        }
    )
    assert len(offered.holder_proof.revocation) == 16384
    with pytest.raises(BadIssueRequest, match="terminal_certificate: not unpadded base64url"):
        OfferRequest.from_json({**document, "terminal_certificate": "MIIB=="})


def test_refusals_say_where_to_go_and_never_name_a_protection_measure() -> None:
    moved = Refused(RefusalCode.MOVED_OUT)
    assert moved.message_ja.endswith(COUNTER_JA) and "municipal office" in moved.message_en
    assert not Refused(RefusalCode.LINKED_TODAY).message_ja.endswith(COUNTER_JA)
    for code in RefusalCode:
        words = Refused(code).message_ja + Refused(code).message_en + code.value
        assert "支援" not in words and "protect" not in words and "DV" not in words


def test_japanese_era_dates() -> None:
    assert wareki(dt.date(2026, 11, 23)) == "令和８年１１月２３日"
    assert wareki(dt.date(2019, 5, 1)) == "令和元年５月１日"
    assert wareki(dt.date(2019, 4, 30)) == "平成３１年４月３０日"
    assert wareki(dt.date(1989, 1, 7)) == "昭和６４年１月７日"
    assert wareki_year(2026) == "令和８年度" and wareki_year(2019) == "令和元年度"
    assert wareki_year(1989) == "平成元年度" and wareki_year(1988) == "昭和６３年度"


def test_center_signatures() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    trusted = {bridge_protocol.key_id(key.public_key()): key.public_key()}
    now = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
    body = b'{"order_id": "O-1"}'
    headers = {
        k.lower(): v
        for k, v in bridge_protocol.sign(key, "131016", "POST", "/v1/issue", body, now=now).items()
    }
    verified = bridge_protocol.verify(headers, trusted, "131016", Target("POST", "/v1/issue"), body, now)
    assert f'nonce="{verified.nonce}"' in headers["signature-input"]

    def refused(code: str, **changes: Any) -> None:
        arguments: dict[str, Any] = {
            "headers": headers,
            "trusted": trusted,
            "municipality": "131016",
            "target": Target("POST", "/v1/issue"),
            "body": body,
            "now": now,
        }
        arguments.update(changes)
        with pytest.raises(BridgeAuthError) as caught:
            bridge_protocol.verify(**arguments)
        assert caught.value.code == code

    refused("bad_signature", municipality="131041")  # another municipality's request
    refused("bad_digest", body=b'{"order_id": "O-2"}')
    refused("bad_signature", headers=with_body(headers, b'{"order_id": "O-2"}'), body=b'{"order_id": "O-2"}')
    refused("bad_signature", target=Target("POST", "/v1/void"))
    refused("bad_signature", target=Target("POST", "/v1/issue", "?again=1"))
    refused("clock_skew", now=now + dt.timedelta(minutes=3))
    refused("unknown_center_key", trusted={})
    refused("unsigned_request", headers={**headers, "signature": ""})
    refused("unsigned_request", headers={k: v for k, v in headers.items() if k != "koufu-municipality"})
    refused("malformed_signature", headers=with_parameters(headers, created="soon"))
    refused("malformed_signature", headers=with_parameters(headers, nonce="AAAA"))
    other = ed25519.Ed25519PrivateKey.generate()
    forged = bridge_protocol.sign(other, "131016", "POST", "/v1/issue", body, now=now)
    refused("bad_signature", headers={**headers, "signature": forged["Signature"]})
