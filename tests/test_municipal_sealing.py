"""A municipality's sealing key and sealing to it (``documents/sealing_key.py``,
``documents/to_municipality.py``): the signed statement round trip and each refusal, the sealed
application round trip and each refusal, the municipal directory's key (made once, kept), and the
kiosk's choice of the participating municipalities, keeping only statements that verify.

Every time is fixed or derived from the clock the test passes: nothing depends on today's date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import stat
from pathlib import Path

import cbor2
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center.municipal import service
from center.municipal.settings import typical
from center.municipal_client import MunicipalClient, MunicipalEndpoint
from center.sealing_keys import SealingKeys
from center.store.driver import Database
from center.store.engine import make_engine, migrate
from documents import (
    BadSignature,
    BindingMismatch,
    ExpiredStatement,
    MalformedDocument,
    MunicipalKey,
    NotForThisMunicipality,
    SealingKey,
    TrustList,
    UndecryptableDocument,
    UntrustedSigner,
    b64url_encode,
    open_from_terminal,
    seal_to_municipality,
    sign_sealing_key,
    verify_sealing_key,
)
from documents.cose import sign1
from documents.prefectures import PREFECTURES, prefecture_of
from documents.sealing_key import point_of, read_sealing_key, sealing_key_id
from kiosk.municipalities import verified_municipalities

NOW = dt.datetime(2026, 11, 23, 1, 2, 3, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)
CHIYODA, HACHIOJI, SAPPORO = "131016", "132012", "011002"
APPLICATION = {
    "kind": "domicile_registration",
    "domicile": "東京都千代田区九段南一丁目２番地",
    "head": "試験　太郎",
}


def stated(
    code: str = CHIYODA,
    *,
    public: ec.EllipticCurvePublicKey | None = None,
    name: str = "千代田区",
    prefecture: str | None = None,
    not_after: dt.datetime = NOW + WEEK,
) -> SealingKey:
    key = public or ec.generate_private_key(ec.SECP256R1()).public_key()
    return SealingKey(code, key, name, "Chiyoda City", prefecture or prefecture_of(code), not_after)


@pytest.fixture(scope="module")
def municipal() -> MunicipalKey:
    return MunicipalKey.generate(CHIYODA)


@pytest.fixture(scope="module")
def trust(municipal: MunicipalKey) -> TrustList:
    return TrustList([municipal.trusted()])


# -- the statement -----------------------------------------------------------------------------


def test_a_statement_verifies_to_what_was_stated(municipal: MunicipalKey, trust: TrustList) -> None:
    sealing = ec.generate_private_key(ec.SECP256R1())
    made = stated(public=sealing.public_key())
    verified = verify_sealing_key(sign_sealing_key(made, municipal), trust, now=NOW)
    assert verified == made and verified.key_id == sealing_key_id(sealing.public_key())
    assert point_of(verified.public_key) == point_of(sealing.public_key())
    assert (verified.prefecture, verified.prefecture_code) == ("東京都", "13")


def test_a_statement_is_deterministic_and_its_payload_is_exactly_the_fields(municipal: MunicipalKey) -> None:
    made = stated()
    statement = sign_sealing_key(made, municipal)
    assert statement == sign_sealing_key(made, municipal)
    payload = cbor2.loads(cbor2.loads(statement).value[2])
    assert set(payload) == {
        "format",
        "municipality",
        "public_key",
        "name",
        "name_en",
        "prefecture",
        "not_after",
    }
    assert payload["format"] == "koufu-sealing-key/1" and len(payload["public_key"]) == 65
    assert payload["not_after"] == (NOW + WEEK).isoformat()


def test_a_statement_signed_by_another_municipality_s_key_is_refused(trust: TrustList) -> None:
    other = MunicipalKey.generate(HACHIOJI)
    both = TrustList([*trust.values(), other.trusted()])
    # Hachioji's trusted key cannot state Chiyoda's sealing key (its own statement verifies)
    assert verify_sealing_key(sign_sealing_key(stated(HACHIOJI, name="八王子市"), other), both, now=NOW)
    forged = sign1(
        cbor2.dumps(stated().statement(), canonical=True), other.key_id, other.private_key
    ).encoded()
    with pytest.raises(UntrustedSigner, match="another municipality"):
        verify_sealing_key(forged, both, now=NOW)


def test_a_statement_signed_by_an_untrusted_key_is_refused(trust: TrustList) -> None:
    stranger = MunicipalKey.generate(CHIYODA)  # claims to be Chiyoda's: not in the trust list
    with pytest.raises(UntrustedSigner, match="not in the trust list"):
        verify_sealing_key(sign_sealing_key(stated(), stranger), trust, now=NOW)


def test_an_expired_statement_or_signer_is_refused(municipal: MunicipalKey, trust: TrustList) -> None:
    statement = sign_sealing_key(stated(not_after=NOW), municipal)
    assert verify_sealing_key(statement, trust, now=NOW)  # its last moment
    with pytest.raises(ExpiredStatement):
        verify_sealing_key(statement, trust, now=NOW + dt.timedelta(microseconds=1))
    retired = TrustList([municipal.trusted(not_after=NOW - dt.timedelta(seconds=1))])
    with pytest.raises(UntrustedSigner, match="expired"):
        verify_sealing_key(sign_sealing_key(stated(), municipal), retired, now=NOW)


def test_a_tampered_statement_is_refused(municipal: MunicipalKey, trust: TrustList) -> None:
    cose = cbor2.loads(sign_sealing_key(stated(), municipal))
    protected, unprotected, payload, signature = cose.value
    swapped = {
        **cbor2.loads(payload),
        "public_key": point_of(ec.generate_private_key(ec.SECP256R1()).public_key()),
    }
    tampered = cbor2.dumps(
        cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(swapped, canonical=True), signature]),
        canonical=True,
    )
    with pytest.raises(BadSignature):
        verify_sealing_key(tampered, trust, now=NOW)


@pytest.mark.parametrize(
    "change",
    [
        {"format": "koufu-sealing-key/2"},
        {"extra": "x"},
        {"municipality": "13101"},
        {"municipality": "991234"},  # no 99th prefecture
        {"prefecture": "大阪府"},  # not the code's
        {"name": ""},
        {"name": "区" * 41},
        {"name_en": "Chiyoda\nCity"},
        {"public_key": b"\x04" + bytes(64)},  # not on the curve
        {"public_key": "04" * 33},
        {"not_after": "2026-11-30T01:00:00"},  # no offset
        {"not_after": "2026-11-30T10:00:00+09:00"},  # not UTC
    ],
)
def test_a_statement_not_in_its_exact_form_is_refused(
    municipal: MunicipalKey, trust: TrustList, change: dict[str, object]
) -> None:
    statement = {**stated().statement(), **change}
    signed = sign1(cbor2.dumps(statement, canonical=True), municipal.key_id, municipal.private_key).encoded()
    with pytest.raises(MalformedDocument):
        verify_sealing_key(signed, trust, now=NOW)
    with pytest.raises(MalformedDocument):
        read_sealing_key(signed)


def test_a_statement_the_municipality_could_not_be_read_back_is_never_signed(municipal: MunicipalKey) -> None:
    with pytest.raises(ValueError, match="prefecture"):
        sign_sealing_key(stated(prefecture="大阪府"), municipal)
    with pytest.raises(ValueError, match="its own"):
        sign_sealing_key(stated(HACHIOJI), municipal)


def test_the_prefectures_are_the_47_by_their_codes() -> None:
    assert len(PREFECTURES) == len(set(PREFECTURES)) == 47
    assert [prefecture_of(code) for code in (SAPPORO, CHIYODA, "271004", "472018")] == [
        "北海道",
        "東京都",
        "大阪府",
        "沖縄県",
    ]


# -- sealing to a municipality -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sealing() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def sealed(sealing: ec.EllipticCurvePrivateKey, **binding: str) -> bytes:
    ids = {"session_id": "S-1", "terminal_id": "T-0001", **binding}
    return seal_to_municipality(APPLICATION, stated(public=sealing.public_key()), **ids)


def opened(data: bytes, sealing: ec.EllipticCurvePrivateKey, **expected: str) -> dict[str, object]:
    ids = {"municipality": CHIYODA, "session_id": "S-1", "terminal_id": "T-0001", **expected}
    return open_from_terminal(data, sealing_key=sealing, **ids)


def test_an_application_opens_to_its_content_for_its_session_and_terminal(
    sealing: ec.EllipticCurvePrivateKey,
) -> None:
    data = sealed(sealing)
    assert opened(data, sealing) == APPLICATION
    header = {k: v for k, v in cbor2.loads(data).items() if k not in ("enc", "ciphertext")}
    assert header == {
        "format": "koufu-to-municipality/1",
        "key_id": sealing_key_id(sealing.public_key()),
        "recipient": CHIYODA,
        "session_id": "S-1",
        "terminal_id": "T-0001",
    }
    assert sealed(sealing) != data  # a fresh ephemeral key each time


def test_an_application_for_another_municipality_session_or_terminal_is_refused(
    sealing: ec.EllipticCurvePrivateKey,
) -> None:
    data = sealed(sealing)
    with pytest.raises(NotForThisMunicipality):
        opened(data, sealing, municipality=HACHIOJI)
    with pytest.raises(BindingMismatch) as mismatch:
        opened(data, sealing, session_id="S-2")
    assert mismatch.value.field == "session_id"
    with pytest.raises(BindingMismatch):
        opened(data, sealing, terminal_id="T-0002")


def test_an_application_under_another_key_or_relabelled_or_tampered_does_not_open(
    sealing: ec.EllipticCurvePrivateKey,
) -> None:
    data = sealed(sealing)
    with pytest.raises(UndecryptableDocument, match="another sealing key"):
        opened(data, ec.generate_private_key(ec.SECP256R1()))
    envelope = cbor2.loads(data)
    relabelled = cbor2.dumps({**envelope, "session_id": "S-2"}, canonical=True)
    with pytest.raises(UndecryptableDocument):  # the header is HPKE's info: another key schedule
        opened(relabelled, sealing, session_id="S-2")
    flipped = bytearray(envelope["ciphertext"])
    flipped[3] ^= 1
    with pytest.raises(UndecryptableDocument):
        opened(cbor2.dumps({**envelope, "ciphertext": bytes(flipped)}, canonical=True), sealing)


def test_an_envelope_of_another_format_or_form_is_refused(sealing: ec.EllipticCurvePrivateKey) -> None:
    envelope = cbor2.loads(sealed(sealing))
    for changed in (
        {**envelope, "format": "koufu-offer/3"},
        {**envelope, "extra": "x"},
        {k: v for k, v in envelope.items() if k != "key_id"},
        {**envelope, "enc": envelope["enc"][:-1]},
    ):
        with pytest.raises(MalformedDocument):
            opened(cbor2.dumps(changed, canonical=True), sealing)
    with pytest.raises(MalformedDocument):
        opened(cbor2.dumps(dict(reversed(envelope.items()))), sealing)  # not deterministic: key order


def test_only_a_map_of_plain_values_is_sealed(sealing: ec.EllipticCurvePrivateKey) -> None:
    key = stated(public=sealing.public_key())
    for content in ({"amount": 1.5}, {"raw": b"x"}, ["not", "a", "map"]):
        with pytest.raises(ValueError):
            seal_to_municipality(content, key, session_id="S-1", terminal_id="T-0001")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        seal_to_municipality(APPLICATION, key, session_id="S-1", terminal_id="t-0001")


# -- the municipality's directory ----------------------------------------------------------------


def test_a_municipality_gets_its_sealing_key_once_and_states_it(tmp_path: Path) -> None:
    directory = tmp_path / CHIYODA
    settings = typical(CHIYODA, "千代田区", "Chiyoda City", "東京都", "千代田区長　山田　太郎")
    key = service.initialise(directory, settings)
    path = directory / service.SEALING_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    made, created = service.ensure_sealing_key(directory)
    assert not created and path.read_bytes() == before  # idempotent: the key is kept
    server = service.MunicipalServer.open(directory)
    try:
        assert server.sealing_key is not None
        assert point_of(server.sealing_key.public_key()) == point_of(made.public_key())
        now = NOW + dt.timedelta(minutes=17, seconds=5)
        statement = server.sealing_statement(now)
        assert statement is not None and statement == server.sealing_statement(now + dt.timedelta(minutes=30))
        verified = verify_sealing_key(statement, TrustList([key.trusted()]), now=now)
        assert (verified.municipality, verified.name, verified.name_en, verified.prefecture) == (
            CHIYODA,
            "千代田区",
            "Chiyoda City",
            "東京都",
        )
        assert verified.not_after == dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # a week from its hour
    finally:
        server.close()


def test_a_directory_made_before_sealing_keys_gets_one_by_the_command(tmp_path: Path) -> None:
    from koufu.cli import main

    directory = tmp_path / CHIYODA
    service.initialise(directory, typical(CHIYODA, "千代田区", "Chiyoda City", "東京都", "千代田区長　某"))
    (directory / service.SEALING_KEY_FILE).unlink()  # as a directory of an earlier version
    server = service.MunicipalServer.open(directory)
    assert server.sealing_key is None and server.sealing_statement(NOW) is None
    server.close()
    assert main(["municipal", "sealing-key", "--dir", str(directory)]) == 0
    first = (directory / service.SEALING_KEY_FILE).read_bytes()
    assert stat.S_IMODE((directory / service.SEALING_KEY_FILE).stat().st_mode) == 0o600
    assert main(["municipal", "sealing-key", "--dir", str(directory)]) == 0
    assert (directory / service.SEALING_KEY_FILE).read_bytes() == first


# -- the kiosk's choice --------------------------------------------------------------------------


def test_the_kiosk_keeps_the_statements_that_verify_and_drops_the_others(
    municipal: MunicipalKey, caplog: pytest.LogCaptureFixture
) -> None:
    hachioji, sapporo = MunicipalKey.generate(HACHIOJI), MunicipalKey.generate(SAPPORO)
    trust = TrustList([municipal.trusted(), hachioji.trusted(), sapporo.trusted()])
    chiyoda = sign_sealing_key(stated(), municipal)
    canary = "カナリア市-CANARY-91c2"
    swapped = sign_sealing_key(stated(name=canary), MunicipalKey.generate(CHIYODA))  # the center's own key
    entries = [
        (SAPPORO, b64url_encode(sign_sealing_key(stated(SAPPORO, name="札幌市"), sapporo))),
        (CHIYODA, b64url_encode(chiyoda)),
        (HACHIOJI, b64url_encode(sign_sealing_key(stated(HACHIOJI, name="八王子市"), hachioji))),
        (CHIYODA, b64url_encode(swapped)),  # a second, swapped one: dropped
        (HACHIOJI, b64url_encode(chiyoda)),  # Chiyoda's under Hachioji's code: dropped
        ("271004", "not base64url!"),
    ]
    with caplog.at_level(logging.WARNING, logger="kiosk.municipalities"):
        chosen = verified_municipalities(entries, trust, now=NOW)
    assert set(chosen.keys) == {SAPPORO, CHIYODA, HACHIOJI}
    assert dict(chosen.dropped) == {"untrusted_signer": 1, "malformed_document": 2}
    assert [(p.code, p.name) for p in chosen.prefectures()] == [("01", "北海道"), ("13", "東京都")]
    assert [key.municipality for key in chosen.municipalities_of("13")] == [CHIYODA, HACHIOJI]
    key = chosen.sealing_key(CHIYODA)
    assert key is not None and key.name == "千代田区"
    logged = caplog.text
    assert "untrusted_signer" in logged and canary not in logged and "千代田" not in logged
    assert verified_municipalities(entries, trust, now=NOW + 2 * WEEK).keys == {}  # every one expired


# -- the center's collection ---------------------------------------------------------------------


def test_the_center_keeps_only_each_municipality_s_own_unexpired_statement(
    tmp_path: Path, municipal: MunicipalKey, caplog: pytest.LogCaptureFixture
) -> None:
    """Answers at the outermost I/O (httpx's transport): Chiyoda's statement, Chiyoda's statement
    again from Hachioji's server, an expired one from Sapporo's, an error from Osaka's. The
    center keeps Chiyoda's only, asks again for it when it is an hour old and for the others
    after five minutes, and serves only municipalities connected now."""
    sapporo_key = MunicipalKey.generate(SAPPORO)
    chiyoda = sign_sealing_key(stated(), municipal)
    answers = {
        CHIYODA: httpx.Response(200, json={"municipality": CHIYODA, "statement": b64url_encode(chiyoda)}),
        HACHIOJI: httpx.Response(200, json={"municipality": HACHIOJI, "statement": b64url_encode(chiyoda)}),
        SAPPORO: httpx.Response(
            200,
            json={
                "municipality": SAPPORO,
                "statement": b64url_encode(sign_sealing_key(stated(SAPPORO, not_after=NOW), sapporo_key)),
            },
        ),
        "271004": httpx.Response(500, json={"error": "http_error", "message": "broken"}),
    }
    asked: list[str] = []
    url = f"sqlite:///{tmp_path / 'center.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()

    async def run() -> tuple[list[int], list[str], list[str]]:
        client = MunicipalClient(
            ed25519.Ed25519PrivateKey.generate(),
            {code: MunicipalEndpoint(f"https://{code}.example") for code in answers},
        )
        for code, answer in answers.items():

            def handler(
                request: httpx.Request, code: str = code, answer: httpx.Response = answer
            ) -> httpx.Response:
                assert request.url.path == "/v1/sealing-key" and "signature" not in request.headers
                asked.append(code)
                return answer

            client._clients[code] = httpx.AsyncClient(
                base_url=f"https://{code}.example", transport=httpx.MockTransport(handler)
            )
        database = Database(url)
        moment = [NOW + dt.timedelta(seconds=1)]
        keys = SealingKeys(database, client, clock=lambda: moment[0])
        try:
            kept = [await keys.collect(), await keys.collect()]  # the second asks nobody
            moment[0] += dt.timedelta(minutes=5)
            kept.append(await keys.collect())  # the failed ones again
            moment[0] += dt.timedelta(minutes=55)
            kept.append(await keys.collect())  # every one
            served = [entry.municipality for entry in await keys.participating()]
            del client.municipalities[CHIYODA]  # no longer connected
            return kept, served, [entry.municipality for entry in await keys.participating()]
        finally:
            await database.close()
            await client.close()

    with caplog.at_level(logging.INFO, logger="center.sealing_keys"):
        kept, served, unconnected = asyncio.run(run())
    assert kept == [1, 0, 0, 1] and served == [CHIYODA] and unconnected == []
    assert sorted(asked) == sorted([*answers, HACHIOJI, SAPPORO, "271004", *answers])
    assert "another_municipality" in caplog.text and "expired" in caplog.text
    assert "千代田" not in caplog.text
