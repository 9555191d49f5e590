"""``koufu authority …`` and ``koufu card issue`` against the authority, in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from center.authority.ca import CaKind
from center.authority.service import AuthorityService
from devtools.authority import open_test_authority
from hardware.cardsim.card import VirtualCard
from koufu.cli import main


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised authority directory, copied for each test (CA keys made once)."""
    directory = tmp_path_factory.mktemp("authority-template") / "authority"
    open_test_authority(directory).close()
    return directory


@pytest.fixture
def authority(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("KOUFU_AUTHORITY_DB", raising=False)
    directory = tmp_path / "authority"
    shutil.copytree(template, directory)
    return directory


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _card_serials(card: Path) -> tuple[int, int]:
    state = VirtualCard.open(card).state
    assert state.sign_cert is not None
    return (
        x509.load_der_x509_certificate(state.auth_cert).serial_number,
        x509.load_der_x509_certificate(state.sign_cert).serial_number,
    )


def test_init_creates_the_generations_and_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KOUFU_AUTHORITY_DB", raising=False)
    directory = tmp_path / "fresh"
    code, out, _ = _run(capsys, "authority", "init", "--dir", str(directory), "--generations", "2019,2023")
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()[:4]] == [
        "signing-2019",
        "signing-2023",
        "user-auth-2019",
        "user-auth-2023",
    ]
    assert "authority.db" in out
    assert sorted(p.name for p in (directory / "ca").iterdir())[:2] == [
        "signing-2019.crt",
        "signing-2019.key",
    ]
    assert (directory / "ca" / "user-auth-2023.key").stat().st_mode & 0o777 == 0o600
    again, out_again, _ = _run(capsys, "authority", "init", "--dir", str(directory))
    assert again == 0 and out_again.splitlines()[:4] == out.splitlines()[:4]  # keys kept


def test_bad_generation_list_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["authority", "init", "--dir", str(tmp_path), "--generations", "twenty"])
    assert "expected years" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["authority", "init", "--dir", str(tmp_path), "--generations", "19"])
    assert "expected years" in capsys.readouterr().err


def test_card_issue_records_both_certificates_with_the_municipality(
    authority: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "card.json"
    code, _, err = _run(
        capsys, "card", "issue", "--out", str(card), "--authority", str(authority), "--municipality", "141003"
    )
    assert code == 0, err
    auth_serial, sign_serial = _card_serials(card)
    for serial in (auth_serial, sign_serial):
        code, out, _ = _run(capsys, "authority", "status", str(serial), "--dir", str(authority))
        assert code == 0
        assert json.loads(out) == {
            "serial": serial,
            "municipality": "141003",
            "status": "good",
            "previous_serial": None,
        }
    with AuthorityService.open(authority, create=False) as service:
        state = VirtualCard.open(card).state
        auth = x509.load_der_x509_certificate(state.auth_cert)
        assert service.authority.issuer_of(auth).der == state.auth_ca_cert
        assert service.record(sign_serial).kind == CaKind.SIGNING.value


def test_card_issue_default_municipality_and_bad_codes(
    authority: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "card.json"
    assert _run(capsys, "card", "issue", "--out", str(card), "--authority", str(authority))[0] == 0
    with AuthorityService.open(authority, create=False) as service:
        assert service.municipality_of(_card_serials(card)[0]) == "131016"
    code, _, err = _run(
        capsys,
        "card",
        "issue",
        "--out",
        str(tmp_path / "x.json"),
        "--authority",
        str(authority),
        "--municipality",
        "131017",
    )
    assert code == 1 and "check digit" in err and not (tmp_path / "x.json").exists()


def test_verifiers_from_the_command_line(authority: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "authority", "add-verifier", "bank of test", "--dir", str(authority))
    assert code == 0
    token = out.splitlines()[-1]
    with AuthorityService.open(authority, create=False) as service:
        assert service.authenticate(token) == "bank of test"
    code, _, err = _run(capsys, "authority", "add-verifier", "bank of test", "--dir", str(authority))
    assert code == 1 and "already registered" in err and token not in err
    assert _run(capsys, "authority", "remove-verifier", "bank of test", "--dir", str(authority))[0] == 0
    code, _, err = _run(capsys, "authority", "remove-verifier", "bank of test", "--dir", str(authority))
    assert code == 1 and "no verifier" in err


def test_revoke_release_and_renew_from_the_command_line(
    authority: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "card.json"
    assert _run(capsys, "card", "issue", "--out", str(card), "--authority", str(authority))[0] == 0
    auth_serial, sign_serial = _card_serials(card)
    where = ("--dir", str(authority))
    code, out, _ = _run(
        capsys, "authority", "revoke", str(sign_serial), "--reason", "certificateHold", *where
    )
    assert code == 0 and f"revoked {sign_serial} (certificate_hold)" in out
    code, _, err = _run(capsys, "authority", "revoke", str(sign_serial), "--reason", "lost_card", *where)
    assert code == 1 and "already revoked" in err
    assert _run(capsys, "authority", "release-hold", str(sign_serial), *where)[0] == 0
    code, _, err = _run(capsys, "authority", "revoke", str(sign_serial), "--reason", "stolen", *where)
    assert code == 1 and "unknown revocation reason 'stolen'" in err

    code, out, err = _run(capsys, "authority", "renew", str(auth_serial), "--card", str(card), *where)
    assert code == 0, err
    new_auth, same_sign = _card_serials(card)
    assert same_sign == sign_serial and new_auth != auth_serial
    assert f"new serial {new_auth}" in out
    code, out, _ = _run(capsys, "authority", "status", str(new_auth), *where)
    assert json.loads(out)["previous_serial"] == auth_serial
    code, out, _ = _run(capsys, "authority", "status", str(auth_serial), *where)
    assert json.loads(out)["status"] == "revoked"
    state = VirtualCard.open(card).state  # new key and certificate, same PINs
    key = serialization.load_pem_private_key(state.auth_key_pem, password=None)
    assert key.public_key() == x509.load_der_x509_certificate(state.auth_cert).public_key()
    assert state.pins["jpki.auth"].tries_left == 3

    code, out, err = _run(
        capsys,
        "authority",
        "renew",
        str(sign_serial),
        "--card",
        str(card),
        "--municipality",
        "011002",
        *where,
    )
    assert code == 0, err
    new_sign = _card_serials(card)[1]
    status = json.loads(_run(capsys, "authority", "status", str(new_sign), *where)[1])
    assert status == {
        "serial": new_sign,
        "municipality": "011002",
        "status": "good",
        "previous_serial": sign_serial,
    }
    signing = x509.load_der_x509_certificate(VirtualCard.open(card).state.sign_cert or b"")
    assert "千代田区" in signing.subject.rfc4514_string()

    code, _, err = _run(capsys, "authority", "renew", str(auth_serial), "--card", str(card), *where)
    assert code == 1 and f"the card holds no certificate with serial {auth_serial}" in err
    code, _, err = _run(capsys, "authority", "renew", str(auth_serial), "--birth-date", "1990-05-10", *where)
    assert code == 1 and "already renewed" in err
    code, out, err = _run(capsys, "authority", "renew", str(new_auth), "--birth-date", "1990-05-10", *where)
    assert code == 0, err


def test_errors_are_one_line(authority: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        capsys, "authority", "revoke", "2147483999", "--reason", "deceased", "--dir", str(authority)
    )
    assert code == 1 and err.strip() == "koufu: no certificate with serial 2147483999"
    code, _, err = _run(capsys, "authority", "status", "5", "--dir", str(tmp_path / "none"))
    assert code == 1 and "no authority in" in err
    code, _, err = _run(capsys, "authority", "status", "0", "--dir", str(authority))
    assert code == 1 and "serials are 1 to" in err
    code, _, err = _run(
        capsys,
        "authority",
        "serve",
        "--dir",
        str(authority),
        "--port",
        "0",
        "--tls-cert",
        str(tmp_path / "missing.pem"),
    )
    assert code == 1 and "both --tls-cert and --tls-key" in err


def test_help_lists_the_authority(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["authority", "--help"])
    out = capsys.readouterr().out
    for action in ("init", "serve", "revoke", "renew", "add-verifier", "status"):
        assert action in out
