"""A terminal enrolled with its own key (端末登録): the kiosk's key pair and request
(``koufu kiosk enrolment-request``), the center's checks of the request and each refusal (not
PEM, garbage, a key of another curve or kind, a signature tampered with, another terminal's name,
an id enrolled already), no private key written at the center, the bundle installed only on the
terminal whose key it certifies; and a terminal placed (store, municipality, chain) from the
command line, audited old → new. On SQLite, at fixed times."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center.config import CenterConfig, initialise
from center.enrolment import EnrolledTerminal, EnrolmentBundle, make_request
from center.enrolment_request import check_request
from center.errors import BadRequest, DependencyUnavailable
from center.store.driver import Database
from center.terminal_enrolment import Placement, enrol_requested
from center.terminals import TerminalCA, enroll
from kiosk.enrolment import install_enrolment, request_enrolment
from kiosk.errors import EnrolmentError
from koufu.cli import main
from support.center_audit import lines_of

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)
TOWN = "131016"


@pytest.fixture
def center(tmp_path: Path) -> CenterConfig:
    config = initialise(tmp_path / "center", None, "single")
    config.migrated_engine().dispose()
    return config


def pem(request: x509.CertificateSigningRequest) -> bytes:
    return request.public_bytes(serialization.Encoding.PEM)


def p256_request(terminal_id: str = "T-0001") -> bytes:
    return pem(make_request(ec.generate_private_key(ec.SECP256R1()), terminal_id))


def refused(request: bytes | str, terminal_id: str = "T-0001") -> str:
    with pytest.raises(BadRequest) as caught:
        check_request(request, terminal_id)
    return caught.value.code


def enrol(config: CenterConfig, terminal_id: str, request: bytes, **placement: str) -> x509.Certificate:
    """``enrol_requested`` as the console and the command line call it."""

    async def run() -> x509.Certificate:
        database = Database(config.database_url)
        try:
            return await enrol_requested(
                database,
                config.audit_chain_key,
                TerminalCA.load(config.directory),
                terminal_id,
                Placement(
                    placement.get("store", "店"), placement.get("municipality"), placement.get("chain")
                ),
                request,
                "operator-1",
                NOW,
            )
        finally:
            await database.close()

    return asyncio.run(run())


# -- the request's checks ----------------------------------------------------------------------------


def test_a_good_request_gives_its_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    checked = check_request(pem(make_request(key, "T-0001")), "T-0001")
    assert checked.public_numbers() == key.public_key().public_numbers()


def test_a_request_without_a_subject_is_accepted() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hashes.SHA256())
    assert (
        check_request(pem(request).decode(), "T-0001").public_numbers() == key.public_key().public_numbers()
    )


def test_what_is_not_a_pem_request_is_bad_csr() -> None:
    request = make_request(ec.generate_private_key(ec.SECP256R1()), "T-0001")
    assert refused(request.public_bytes(serialization.Encoding.DER)) == "bad_csr"  # not PEM
    assert refused("hello") == "bad_csr"
    assert (
        refused(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
        == "bad_csr"
    )
    assert refused(b"-----BEGIN CERTIFICATE REQUEST-----" + b"x" * 20_000) == "bad_csr"  # too long


def test_a_key_of_another_curve_or_kind_is_csr_key() -> None:
    assert refused(pem(make_request(ec.generate_private_key(ec.SECP384R1()), "T-0001"))) == "csr_key"
    edwards = ed25519.Ed25519PrivateKey.generate()
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "T-0001")]))
        .sign(edwards, None)
    )
    assert refused(pem(request)) == "csr_key"


def test_a_request_whose_signature_was_tampered_with_is_csr_signature() -> None:
    request = make_request(ec.generate_private_key(ec.SECP256R1()), "T-0001")
    der = bytearray(request.public_bytes(serialization.Encoding.DER))
    # the subject's common name changed after signing: T-0001 → T-0002
    index = der.index(b"T-0001")
    der[index : index + 6] = b"T-0002"
    tampered = x509.load_der_x509_csr(bytes(der))
    assert refused(pem(tampered), "T-0002") == "csr_signature"


def test_a_request_naming_another_terminal_is_csr_subject() -> None:
    assert refused(p256_request("T-0002"), "T-0001") == "csr_subject"


# -- the center certifies the key: nothing private, no second enrolment -----------------------------


def test_an_enrolment_from_a_request_is_audited_and_an_id_enrolled_already_is_refused(
    center: CenterConfig,
) -> None:
    certificate = enrol(center, "T-0001", p256_request("T-0001"), municipality=TOWN, chain="familymart")
    assert certificate.subject.rfc4514_string() == "CN=T-0001"
    with pytest.raises(BadRequest) as again:
        enrol(center, "T-0001", p256_request("T-0001"))
    assert (again.value.code, again.value.status) == ("terminal_exists", 409)
    engine = center.migrated_engine()
    try:
        with engine.begin() as connection, pytest.raises(BadRequest) as made_here:
            enroll(connection, TerminalCA.load(center.directory), "T-0001", "店", NOW)
    finally:
        engine.dispose()
    assert made_here.value.code == "terminal_exists"  # not an IntegrityError
    lines = lines_of(center, "terminal_enrolled")
    assert [(line.terminal_id, line.outcome, line.actor) for line in lines] == [
        ("T-0001", "active", "operator-1")
    ]


def test_the_center_refuses_a_missing_terminal_ca_rather_than_make_one(tmp_path: Path) -> None:
    with pytest.raises(DependencyUnavailable) as caught:
        TerminalCA.load(tmp_path)
    assert caught.value.code == "no_terminal_ca"
    assert list(tmp_path.iterdir()) == []


def test_kiosk_to_center_to_kiosk_from_the_command_line_with_no_private_key_at_the_center(
    center: CenterConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk, bundle = tmp_path / "kiosk", tmp_path / "bundle.json"
    assert main(["kiosk", "enrolment-request", "--terminal-dir", str(kiosk), "--terminal-id", "T-0007"]) == 0
    assert "BEGIN CERTIFICATE REQUEST" in capsys.readouterr().out
    assert stat.S_IMODE((kiosk / "terminal.key").stat().st_mode) == 0o600
    before = {path.name for path in center.directory.iterdir()}
    enrol_line = (
        f"center enroll-terminal T-0007 --dir {center.directory} --store 店 --csr {kiosk / 'terminal.csr'}"
    )
    assert main([*enrol_line.split(), "--out", str(bundle)]) == 0
    assert {path.name for path in center.directory.iterdir()} == before  # no key written there
    text = bundle.read_text()
    assert "PRIVATE" not in text
    assert set(json.loads(text)) == {"format", "terminal_id", "certificate", "center_tls"}
    assert main(["kiosk", "install-enrolment", "--terminal-dir", str(kiosk), str(bundle)]) == 0
    terminal = EnrolledTerminal.load(kiosk)
    assert terminal.terminal_id == "T-0007"
    assert terminal.certificate.public_key() == terminal.key.public_key()
    assert (kiosk / "center-tls.crt").read_bytes() == center.path("tls.crt").read_bytes()
    # a second request on the same terminal would replace its key: refused
    assert main(["kiosk", "enrolment-request", "--terminal-dir", str(kiosk), "--terminal-id", "T-0007"]) == 1


def test_a_bundle_for_another_key_or_none_is_not_installed(center: CenterConfig, tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    request_enrolment(ours, "T-0008")
    request_enrolment(theirs, "T-0008")
    certificate = enrol(center, "T-0008", (theirs / "terminal.csr").read_bytes())
    bundle = EnrolmentBundle("T-0008", certificate, center.path("tls.crt").read_bytes()).to_json()
    with pytest.raises(EnrolmentError) as mismatch:
        install_enrolment(ours, bundle)
    assert mismatch.value.code == "key_mismatch"
    assert not (ours / "terminal.crt").exists()
    with pytest.raises(EnrolmentError) as bad:
        install_enrolment(theirs, "{}")
    assert bad.value.code == "bad_bundle"
    with pytest.raises(EnrolmentError) as no_key:
        install_enrolment(tmp_path / "empty", bundle)
    assert no_key.value.code == "no_key"
    with pytest.raises(EnrolmentError) as bad_id:
        request_enrolment(tmp_path / "lower", "t-1")
    assert bad_id.value.code == "bad_terminal_id"


# -- placing ---------------------------------------------------------------------------------------


def test_the_command_line_places_a_terminal_audited_old_to_new(center: CenterConfig) -> None:
    engine = center.migrated_engine()
    try:
        with engine.begin() as connection:
            enroll(connection, TerminalCA.load(center.directory), "T-OLD1", "古い店", NOW)
    finally:
        engine.dispose()
    directory = str(center.directory)
    assert main(["center", "terminal", "place", "T-OLD1", "--dir", directory, "--municipality", TOWN]) == 0
    assert main(["center", "terminal", "place", "T-OLD1", "--dir", directory, "--chain", "lawson"]) == 0
    assert main(["center", "terminal", "place", "T-OLD1", "--dir", directory, "--municipality", "12"]) == 1
    assert main(["center", "terminal", "place", "T-NONE", "--dir", directory, "--chain", "lawson"]) == 1
    lines = lines_of(center, "terminal_placed")
    assert [line.detail for line in lines] == [
        f"terminal T-OLD1: municipality None→{TOWN}",
        "terminal T-OLD1: chain None→lawson",
    ]
    assert all(line.actor.startswith("cli:") for line in lines)
    assert main(["center", "audit-verify", "--dir", directory]) == 0


@pytest.mark.parametrize(
    ("placement", "code"),
    [
        (Placement(""), "bad_store"),
        (Placement("店<script>"), "bad_store"),
        (Placement("店\n二行"), "bad_store"),
        (Placement("店", chain=""), "bad_chain"),
        (Placement("店", chain="Lawson"), "bad_chain"),
        (Placement("店", chain="a" * 33), "bad_chain"),
        (Placement("店", municipality="12"), "bad_municipality"),
    ],
)
def test_a_placement_out_of_form_is_refused_by_its_part(placement: Placement, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        placement.checked()
    assert caught.value.code == code


def test_a_placement_in_form_is_kept_with_its_store_stripped() -> None:
    placed = Placement(" 千代田一番町店 ", TOWN, "family-mart").checked()
    assert placed == Placement("千代田一番町店", TOWN, "family-mart")
