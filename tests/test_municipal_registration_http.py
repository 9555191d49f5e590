"""Usage registrations at the domicile municipality (本籍地の利用登録), over its API: the municipal
server's real application served over TLS on loopback (uvicorn in a thread, with the test's clock),
requests signed with a center key, residents' cards and signing certificates issued by the JPKI
authority simulator, applications signed and sealed as the kiosk makes them
(``tests/support/domicile_applications.py``); for revocations, the authority's own server
(``koufu authority serve``, TLS) asked by ``koufu municipal registrations check-revocations``.

Covers: an application pending, approved by the business-day rule (the clock moved) and by the
staff; a wrong 筆頭者 denied with the not_matched words, the same as for a register that is not
there; every forged or mismatched application refused 403 ``application_not_proven``; a renewed
card's status found by its previous serial and linked; a revoked card's registration suspended,
resumed by the renewed card's proof. Nothing about the person in clear, nothing personal logged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center import bridge_protocol
from center.authority.service import AuthorityService
from center.municipal import service
from center.municipal.business_days import approval_instant
from center.municipal.domicile_match import DenialReason
from center.municipal.http import create_app
from center.municipal.registrations import Registrations, Status
from center.municipal.settings import typical
from center.signing import unb64url
from center.terminals import TerminalCA
from devtools.authority import card_key, open_test_authority
from documents import TrustedKey, TrustList, verify_sealing_key
from documents.registration import open_registration_status
from koufu.cli import main as koufu
from support.authority_process import serving_authority
from support.domicile_applications import (
    HANAKO,
    ICHIRO,
    JIRO,
    OTHER_DOMICILE,
    OTHER_HEAD,
    SACHIKO,
    TARO,
    Applications,
    Resident,
    ocsp_answer,
    write_registers,
)
from support.threaded_server import loopback_socket, served_in_thread

CODE = "271276"
SETTINGS = typical(CODE, "大阪市北区", "Kita Ward", "大阪府", "大阪市長　大阪　一郎")
TERMINAL = "T-0001"
STARTUP = 20.0  # seconds a server may take to start (a bound on waiting, not a measurement)


@dataclass
class Clock:
    """The municipality's and the in-process authority's time, moved only by the tests."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Domicile:
    directory: Path
    client: httpx.Client
    clock: Clock
    center_key: ed25519.Ed25519PrivateKey
    trust: TrustList
    terminal_key: ec.EllipticCurvePrivateKey
    applications: Applications
    authority: AuthorityService
    authority_url: str  # the authority's own server (check-revocations asks it)
    authority_tls: Path
    token_file: Path
    registrations: Registrations  # the municipality's, read by the test on its database
    sessions: Iterator[int]

    def session(self) -> str:
        return f"S-{next(self.sessions)}"

    def post(self, path: str, document: Any) -> httpx.Response:
        body = json.dumps(document).encode()
        headers = bridge_protocol.sign(self.center_key, CODE, "POST", path, body, now=self.clock())
        headers["Content-Type"] = "application/json"
        return self.client.post(path, content=body, headers=headers)

    def resident(self, person: Any) -> Resident:
        return self.applications.resident(person, self.clock())

    def apply(self, resident: Resident, **changes: Any) -> tuple[httpx.Response, str]:
        session = self.session()
        body = self.applications.application_request(resident, session, self.clock(), **changes)
        return self.post("/v1/registrations", body), session

    def status(self, resident: Resident) -> tuple[httpx.Response, str]:
        session = self.session()
        return self.post(
            "/v1/registrations/status", self.applications.status_request(resident, session, self.clock())
        ), session

    def opened(self, answer: httpx.Response, session: str, resident: Resident) -> dict[str, Any]:
        """What the kiosk opens of an answer (its terminal key, its session, the card)."""
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"registration_id", "sealed"}  # nothing about the person in clear
        return open_registration_status(
            unb64url(answer.json()["sealed"]),
            terminal_id=TERMINAL,
            terminal_key=self.terminal_key,
            trust=self.trust,
            session_id=session,
            holder_certificate=resident.holder_hash,
            now=self.clock(),
        )


@contextlib.contextmanager
def serving(directory: Path, clock: Clock) -> Iterator[str]:
    """The municipality's application over TLS on 127.0.0.1, in a thread, at ``clock``'s time."""
    sock = loopback_socket()
    port = sock.getsockname()[1]
    app = create_app(service.MunicipalServer.open(directory, clock=clock))
    tls = directory / "tls.crt", directory / "tls.key"
    with served_in_thread(app, sock, *tls, what="municipal server", startup=STARTUP):
        yield f"https://127.0.0.1:{port}"


@contextlib.contextmanager
def authority_server(root: Path, directory: Path) -> Iterator[str]:
    """``koufu authority serve`` on ``directory`` (its SQLite database shared with the test), TLS."""
    from center.config import write_tls_identity

    write_tls_identity(root, "authority-tls", ["127.0.0.1"])
    tls = root / "authority-tls.crt", root / "authority-tls.key"
    with serving_authority(directory, *tls, root / "authority.log") as url:
        yield url


@pytest.fixture(scope="module")
def domicile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Domicile]:
    root = tmp_path_factory.mktemp("registration-http")
    clock = Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    authority = open_test_authority(root / "authority", now=clock(), clock=clock)
    anchors = {
        kind: [
            x509.load_pem_x509_certificate(path.read_bytes())
            for path in sorted((root / "authority" / "ca").glob(f"{kind}-*.crt"))
        ]
        for kind in ("user-auth", "signing")
    }
    center_key = ed25519.Ed25519PrivateKey.generate()
    terminal_ca = TerminalCA.load_or_create(root / "terminal-ca")
    terminal_key = ec.generate_private_key(ec.SECP256R1())
    terminal_certificate = terminal_ca.issue(TERMINAL, terminal_key.public_key(), now=clock())
    directory = root / CODE
    key = service.initialise(
        directory,
        SETTINGS,
        center_keys=[center_key.public_key()],
        terminal_cas=[terminal_ca.certificate],
        jpki_anchors=anchors["user-auth"],
        jpki_signing_anchors=anchors["signing"],
        now=clock(),
    )
    engine = service.open_database(service.default_url(directory))
    with engine.begin() as connection:
        write_registers(connection)
    token_file = root / "verifier-token"
    token_file.write_text(authority.add_verifier(f"municipality {CODE}") + "\n")
    trust = TrustList([TrustedKey.from_json(json.loads((directory / service.PUBLIC_KEY_FILE).read_text()))])
    assert trust.get(key.key_id) is not None
    with (
        serving(directory, clock) as url,
        authority_server(root, root / "authority") as authority_url,
        httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=str(directory / "tls.crt")), timeout=30
        ) as client,
    ):
        statement = client.get("/v1/sealing-key").json()["statement"]
        sealing_key = verify_sealing_key(unb64url(statement), trust, now=clock())
        applications = Applications(
            authority,
            anchors["user-auth"],
            anchors["signing"],
            sealing_key,
            TERMINAL,
            terminal_certificate.public_bytes(serialization.Encoding.DER),
        )
        yield Domicile(
            directory,
            client,
            clock,
            center_key,
            trust,
            terminal_key,
            applications,
            authority,
            authority_url,
            root / "authority-tls.crt",
            token_file,
            Registrations(engine, clock),
            iter(range(1, 10_000)),
        )
    engine.dispose()
    authority.close()


def test_an_application_is_pending_then_approved_by_the_staff(
    domicile: Domicile, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    hanako = domicile.resident(HANAKO)
    with caplog.at_level(logging.INFO):
        answer, session = domicile.apply(hanako)
        status = domicile.opened(answer, session, hanako)
    assert "山田" not in answer.text and "梅田" not in answer.text
    assert not any(
        word in caplog.text for word in ("山田", "花子", "梅田", "北区")
    )  # nothing personal logged
    registration_id = answer.json()["registration_id"]
    applied = dt.datetime.fromisoformat(status["applied_at"])
    assert status == {
        "municipality": CODE,
        "name": "大阪市北区",
        "name_en": "Kita Ward",
        "status": "pending",
        "applied_at": domicile.clock().isoformat(),
        "approves_at": approval_instant(applied, SETTINGS.registration_days).isoformat(),
        "decided_at": None,
        "reason": None,
        "message_ja": None,
        "message_en": None,
    }
    again, session = domicile.apply(hanako)  # the same card again: the same registration, not a second
    assert again.json()["registration_id"] == registration_id
    assert domicile.opened(again, session, hanako)["status"] == "pending"
    directory = str(domicile.directory)
    assert (
        koufu(
            ["municipal", "registrations", "approve", "--dir", directory, registration_id, "--by", "窓口　一"]
        )
        == 0
    )
    capsys.readouterr()
    answer, session = domicile.status(hanako)
    approved = domicile.opened(answer, session, hanako)
    assert answer.json()["registration_id"] == registration_id
    assert approved["status"] == "approved" and approved["decided_at"] is not None


def test_a_wrong_head_is_denied_in_words_that_say_nothing_of_others_and_may_apply_again(
    domicile: Domicile,
) -> None:
    jiro = domicile.resident(JIRO)
    wrong_head, session = domicile.apply(jiro, head="山田　花子")
    denied = domicile.opened(wrong_head, session, jiro)
    words = DenialReason.NOT_MATCHED
    assert (denied["status"], denied["reason"], denied["message_ja"], denied["message_en"]) == (
        "denied",
        "not_matched",
        words.message_ja,
        words.message_en,
    )
    # another family's register (it exists, with that head): the very same answer
    others, session = domicile.apply(jiro, domicile=OTHER_DOMICILE, head=OTHER_HEAD)
    domicile.clock.now += dt.timedelta(seconds=1)  # the latest denial is the one told later
    nowhere, session_nowhere = domicile.apply(jiro, domicile="大阪府大阪市北区中之島一丁目一番地")
    for answer, where in ((others, session), (nowhere, session_nowhere)):
        content = domicile.opened(answer, where, jiro)
        assert {k: v for k, v in content.items() if k not in ("applied_at", "decided_at")} == {
            k: v for k, v in denied.items() if k not in ("applied_at", "decided_at")
        }
    asked, session = domicile.status(jiro)  # told again later: the latest denial
    assert asked.json()["registration_id"] == nowhere.json()["registration_id"]
    assert domicile.opened(asked, session, jiro)["reason"] == "not_matched"
    right, session = domicile.apply(jiro)  # may apply again
    assert domicile.opened(right, session, jiro)["status"] == "pending"


def test_no_registration_is_unknown(domicile: Domicile) -> None:
    sachiko = domicile.resident(SACHIKO)
    answer, _ = domicile.status(sachiko)
    assert (answer.status_code, answer.json()["error"]) == (404, "unknown_registration")


def _foreign_signing(domicile: Domicile, tmp_path: Path) -> tuple[x509.Certificate, bytes]:
    """TARO's signing certificate from an authority the municipality does not trust, and its answer."""
    foreign = AuthorityService.open(
        tmp_path / "foreign", now=domicile.clock(), generations=[domicile.clock().year]
    )
    try:
        certificate = foreign.issue_signing(
            card_key(1).public_key(), TARO, municipality="131016", now=domicile.clock()
        )
        anchors = [
            x509.load_pem_x509_certificate(p.read_bytes())
            for p in (tmp_path / "foreign" / "ca").glob("signing-*.crt")
        ]
        return certificate, ocsp_answer(foreign, certificate, anchors, domicile.clock())
    finally:
        foreign.close()


def test_forged_or_mismatched_applications_are_not_proven(domicile: Domicile, tmp_path: Path) -> None:
    taro = domicile.resident(TARO)
    hanako = domicile.resident(HANAKO)
    revoked = domicile.authority.issue_signing(
        card_key(1).public_key(), TARO, municipality="131016", now=domicile.clock()
    )
    domicile.authority.revoke(revoked.serial_number, "key_compromise", now=domicile.clock())
    foreign, foreign_answer = _foreign_signing(domicile, tmp_path)
    forgeries: dict[str, dict[str, Any]] = {
        "another session's challenge": {"challenge": b"another session's challenge....."},
        "another card's serial": {"auth_serial": hanako.auth.serial_number},
        "another municipality": {"municipality": "131016"},
        "another session id": {"session_id": "S-elsewhere"},
        "another terminal": {"terminal_id": "T-0002"},
        "a signature that does not verify": {"signed_by": card_key(2)},
        "a revoked signing certificate": {"signing": revoked},
        "an untrusted signing CA": {"signing": foreign, "signing_revocation": foreign_answer},
        "an answer about another certificate": {
            "signing_revocation": ocsp_answer(
                domicile.authority, hanako.signing, domicile.applications.signing_anchors, domicile.clock()
            )
        },
    }
    for why, changes in forgeries.items():
        answer, _ = domicile.apply(taro, **changes)
        assert (answer.status_code, answer.json()["error"]) == (403, "application_not_proven"), why
        assert set(answer.json()) == {"error", "message"}, why
    status, _ = domicile.status(taro)
    assert status.status_code == 404  # nothing was recorded


def test_a_malformed_body_or_sealed_part_is_refused(domicile: Domicile) -> None:
    taro = domicile.resident(TARO)
    body = domicile.applications.application_request(taro, domicile.session(), domicile.clock())
    extra = domicile.post("/v1/registrations", {**body, "extra": 1})
    assert (extra.status_code, extra.json()["error"]) == (400, "bad_request")
    missing = domicile.post("/v1/registrations", {k: v for k, v in body.items() if k != "signing_revocation"})
    assert (missing.status_code, missing.json()["error"]) == (400, "bad_request")
    other = domicile.applications.application_request(taro, domicile.session(), domicile.clock())
    moved = domicile.post(
        "/v1/registrations", {**body, "sealed": other["sealed"]}
    )  # sealed in another session
    assert (moved.status_code, moved.json()["error"]) == (403, "application_not_proven")


def test_a_renewed_card_keeps_its_registration(domicile: Domicile) -> None:
    ichiro = domicile.resident(ICHIRO)
    applied, session = domicile.apply(ichiro)
    assert domicile.opened(applied, session, ichiro)["status"] == "pending"
    domicile.clock.now += dt.timedelta(seconds=1)  # renewed after the application
    renewed = domicile.applications.renew(ichiro, domicile.clock())
    answer, session = domicile.status(renewed)
    assert answer.json()["registration_id"] == applied.json()["registration_id"]
    assert domicile.opened(answer, session, renewed)["status"] == "pending"
    known = domicile.registrations.for_serial(renewed.auth.serial_number)
    assert known is not None and known.id == applied.json()["registration_id"]  # linked
    again, session = domicile.apply(renewed)  # the renewed card applying: the same registration
    assert again.json()["registration_id"] == applied.json()["registration_id"]


def test_revocation_suspends_and_the_renewed_card_resumes(
    domicile: Domicile, capsys: pytest.CaptureFixture[str]
) -> None:
    sachiko = domicile.resident(SACHIKO)
    applied, session = domicile.apply(sachiko)
    registration_id = applied.json()["registration_id"]
    assert domicile.opened(applied, session, sachiko)["status"] == "pending"
    command = [
        "municipal",
        "registrations",
        "check-revocations",
        "--dir",
        str(domicile.directory),
        "--ocsp-url",
        f"{domicile.authority_url}/ocsp",
        "--token-file",
        str(domicile.token_file),
        "--ca-bundle",
        str(domicile.authority_tls),
    ]
    capsys.readouterr()
    assert koufu(command) == 0
    assert ", suspended 0, unknown 0" in capsys.readouterr().out
    domicile.authority.revoke(sachiko.auth.serial_number, "lost_card", now=domicile.clock())
    assert koufu(command) == 0
    out = capsys.readouterr().out
    assert ", suspended 1, unknown 0" in out and "山田" not in out
    assert domicile.registrations.get(registration_id).status is Status.SUSPENDED
    domicile.clock.now += dt.timedelta(seconds=1)  # renewed after the application
    renewed = domicile.applications.renew(sachiko, domicile.clock())
    answer, session = domicile.status(renewed)
    assert answer.json()["registration_id"] == registration_id
    assert domicile.opened(answer, session, renewed)["status"] == "pending"  # resumed, as it was
    assert koufu(command) == 0
    assert ", suspended 0, unknown 0" in capsys.readouterr().out  # its newest serial is the good one
    wrong = koufu([*command[:-2]])  # the authority's TLS identity not trusted: nothing is suspended
    assert wrong == 1 and "cannot be reached" in capsys.readouterr().err


def test_approved_by_the_business_day_rule_when_due(domicile: Domicile) -> None:
    """Last: it moves the clock days ahead."""
    taro = domicile.resident(TARO)
    applied, session = domicile.apply(taro)
    pending = domicile.opened(applied, session, taro)
    due = dt.datetime.fromisoformat(pending["approves_at"])
    assert due == approval_instant(domicile.clock(), SETTINGS.registration_days)
    domicile.clock.now = due - dt.timedelta(seconds=1)
    answer, session = domicile.status(taro)
    assert domicile.opened(answer, session, taro)["status"] == "pending"
    domicile.clock.now = due
    answer, session = domicile.status(taro)
    approved = domicile.opened(answer, session, taro)
    assert (approved["status"], approved["decided_at"]) == ("approved", pending["approves_at"])


def test_init_writes_the_signing_anchors_and_the_server_reads_them(
    domicile: Domicile, tmp_path: Path
) -> None:
    """``koufu municipal init --jpki-signing-anchor FILE``: ``jpki-signing-anchors.pem``, read at
    start; a directory made before it has none (every application refused as not proven)."""
    pem = tmp_path / "signing.pem"
    pem.write_bytes(
        b"".join(a.public_bytes(serialization.Encoding.PEM) for a in domicile.applications.signing_anchors)
    )
    directory = tmp_path / "131041"
    arguments = ["--code", "131041", "--name", "中央区", "--name-en", "Chuo City", "--prefecture", "東京都"]
    assert (
        koufu(
            [
                "municipal",
                "init",
                "--dir",
                str(directory),
                *arguments,
                "--mayor",
                "中央区長　某",
                "--jpki-signing-anchor",
                str(pem),
            ]
        )
        == 0
    )
    opened = service.MunicipalServer.open(directory)
    try:
        assert opened.signing_anchors == domicile.applications.signing_anchors
    finally:
        opened.close()
    (directory / service.JPKI_SIGNING_ANCHORS_FILE).unlink()
    assert service.read_jpki_signing_anchors(directory) == []
    (directory / service.JPKI_SIGNING_ANCHORS_FILE).write_text("not PEM")
    with pytest.raises(service.MunicipalConfigError):
        service.read_jpki_signing_anchors(directory)
