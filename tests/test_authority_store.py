"""The authority's records: issue, revoke, renew, status, verifiers, migrations.

Every test runs against each database of the ``database_url`` fixture (SQLite here; the
lead adds PostgreSQL by extending its parameters). Tests never assume an empty database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text, update

from center.authority import migrate
from center.authority.ca import CaKind, SigningFacts
from center.authority.errors import (
    AlreadyRenewedError,
    AlreadyRevokedError,
    AuthorityStateError,
    CertificateStateError,
    DuplicateVerifierError,
    InvalidMunicipalityError,
    InvalidReasonError,
    InvalidSerialError,
    IssuanceRefusedError,
    UnauthorizedError,
    UnknownCertificateError,
    UnknownVerifierError,
    VerifierError,
)
from center.authority.reasons import RevocationReason
from center.authority.schema import VERSION_TABLE, metadata
from center.authority.service import AuthorityService
from center.authority.store import AuthorityStore
from devtools.authority import card_key
from support.fixtures_authority import NOW

BIRTH = dt.date(1990, 5, 10)
NAME, ADDRESS, MY_NUMBER = "試験　花子", "東京都千代田区霞が関２丁目１番２号", "123456789018"
FACTS = SigningFacts(NAME, ADDRESS, BIRTH, "2", "東京都", "千代田区")


def _issue(service: AuthorityService, municipality: str = "131016", key: int = 0) -> int:
    cert = service.issue_user_auth(card_key(key).public_key(), birth_date=BIRTH, municipality=municipality)
    return cert.serial_number


def test_issue_records_the_serial_and_the_municipality_only(service: AuthorityService) -> None:
    auth = service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131016")
    signing = service.issue_signing(card_key(1).public_key(), FACTS, municipality="141003")
    assert service.municipality_of(auth.serial_number) == "131016"
    assert service.municipality_of(signing.serial_number) == "141003"
    record = service.record(auth.serial_number)
    assert (record.kind, record.generation) == ("user-auth", 2023)
    assert record.not_after == auth.not_valid_after_utc and record.issued_at == NOW
    assert service.record(signing.serial_number).kind == "signing"
    assert service.status(auth.serial_number).to_json() == {
        "serial": auth.serial_number,
        "municipality": "131016",
        "status": "good",
        "previous_serial": None,
    }


def test_the_database_holds_no_personal_facts(service: AuthorityService) -> None:
    signing = service.issue_signing(card_key(1).public_key(), FACTS, municipality="131016")
    columns = {
        table: {column["name"] for column in inspect(service.store.engine).get_columns(table)}
        for table in ("jpki_certificates", "jpki_verifiers", "jpki_crls")
    }
    assert columns["jpki_certificates"] == {
        "serial",
        "ca_kind",
        "generation",
        "municipality",
        "not_before",
        "not_after",
        "issued_at",
        "revoked_at",
        "revocation_reason",
        "previous_serial",
        "previous_serials",
        "ocsp_response",
        "ocsp_produced_at",
    }
    service.crl(CaKind.SIGNING, 2023)
    with service.store.engine.connect() as connection:
        dump = repr([connection.execute(select(table)).all() for table in metadata.sorted_tables])
    assert str(signing.serial_number) in dump
    for fact in (NAME, ADDRESS, MY_NUMBER, "19900510", "419900510", "千代田区"):
        assert fact not in dump and fact.encode() not in dump.encode()


def test_issue_refuses_a_bad_municipality_before_recording(service: AuthorityService) -> None:
    with pytest.raises(InvalidMunicipalityError):
        service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131017")


def test_a_taken_serial_is_drawn_again(service: AuthorityService, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _issue(service)
    fresh = next(serial for serial in range(4242, 5000) if service.store.get(serial) is None)
    draws = iter([taken, taken, fresh])
    monkeypatch.setattr("center.authority.service.new_serial", lambda: next(draws))
    assert _issue(service, municipality="141003") == fresh
    assert service.municipality_of(taken) == "131016"
    assert service.municipality_of(fresh) == "141003"


def test_revoke_and_status(service: AuthorityService) -> None:
    serial = _issue(service)
    later = NOW + dt.timedelta(hours=1)
    record = service.revoke(serial, RevocationReason.LOST_CARD, now=later)
    assert record.revoked_at == later and record.revocation_reason is RevocationReason.LOST_CARD
    assert service.status(serial).status == "revoked"
    with pytest.raises(AlreadyRevokedError) as caught:
        service.revoke(serial, "deceased")
    assert caught.value.serial == serial and caught.value.code == "already_revoked"
    assert service.record(serial).revocation_reason is RevocationReason.LOST_CARD


@pytest.mark.parametrize(
    "reason", ["moved_out", "deceased", "keyCompromise", "unspecified", "privilege_withdrawn"]
)
def test_revoke_by_any_reason_name(service: AuthorityService, reason: str) -> None:
    serial = _issue(service)
    assert service.revoke(serial, reason).revocation_reason is RevocationReason.parse(reason)


def test_revoke_bad_input(service: AuthorityService) -> None:
    serial = _issue(service)
    with pytest.raises(InvalidReasonError):
        service.revoke(serial, "removeFromCRL")
    with pytest.raises(UnknownCertificateError) as caught:
        service.revoke(2**31 + 7, "lost_card")  # never issued: serials are below 2**31
    assert caught.value.code == "unknown_certificate" and caught.value.http_status == 404
    for bad in (0, -1, 2**63):
        with pytest.raises(InvalidSerialError):
            service.revoke(bad, "lost_card")
        with pytest.raises(InvalidSerialError):
            service.status(bad)
    with pytest.raises(UnknownCertificateError):
        service.municipality_of(2**31 + 7)
    assert service.status(serial).status == "good"


def test_a_hold_can_be_released(service: AuthorityService) -> None:
    serial = _issue(service)
    service.revoke(serial, "certificate_hold")
    assert service.status(serial).status == "revoked"
    assert service.release_hold(serial).revoked_at is None
    assert service.status(serial).status == "good"
    with pytest.raises(CertificateStateError, match="not on hold"):
        service.release_hold(serial)
    service.revoke(serial, "lost_card")
    with pytest.raises(CertificateStateError):
        service.release_hold(serial)
    held = _issue(service)
    service.revoke(held, "certificate_hold")
    service.renew(held, card_key(2).public_key(), birth_date=BIRTH)
    with pytest.raises(AlreadyRenewedError):
        service.release_hold(held)
    assert service.status(held).status == "revoked"


def test_renewal_links_the_previous_serial(service: AuthorityService) -> None:
    old = _issue(service)
    later = NOW + dt.timedelta(days=3)
    renewed = service.renew(old, card_key(2).public_key(), birth_date=BIRTH, now=later)
    new = renewed.serial_number
    assert new != old and renewed.public_key() == card_key(2).public_key()
    assert service.previous_serial(new) == old and service.previous_serial(old) is None
    assert service.status(new).to_json() == {
        "serial": new,
        "municipality": "131016",
        "status": "good",
        "previous_serial": old,
    }
    previous = service.record(old)
    assert previous.revocation_reason is RevocationReason.SUPERSEDED
    assert previous.revoked_at == later
    assert service.store.successor(old) == new
    with pytest.raises(AlreadyRenewedError):
        service.renew(old, card_key(2).public_key(), birth_date=BIRTH)


def test_renewal_rules(service: AuthorityService) -> None:
    lost = _issue(service)
    service.revoke(lost, "lost_card")
    again = service.renew(
        lost, card_key(2).public_key(), birth_date=BIRTH, municipality="141003"
    ).serial_number
    assert service.record(lost).revocation_reason is RevocationReason.LOST_CARD  # unchanged
    assert service.status(again).municipality == "141003"  # moved in (転入) meanwhile
    dead = _issue(service)
    service.revoke(dead, "deceased")
    with pytest.raises(CertificateStateError, match="deceased"):
        service.renew(dead, card_key(2).public_key(), birth_date=BIRTH)
    good = _issue(service)
    with pytest.raises(IssuanceRefusedError, match="birth date"):
        service.renew(good, card_key(2).public_key())
    signing = service.issue_signing(card_key(1).public_key(), FACTS, municipality="131016")
    with pytest.raises(IssuanceRefusedError, match="four facts"):
        service.renew(signing.serial_number, card_key(2).public_key(), birth_date=BIRTH)
    renewed = service.renew(signing.serial_number, card_key(3).public_key(), facts=FACTS)
    assert service.previous_serial(renewed.serial_number) == signing.serial_number
    with pytest.raises(UnknownCertificateError):
        service.renew(2**31 + 9, card_key(2).public_key(), birth_date=BIRTH)
    assert service.status(good).status == "good"


def test_concurrent_renewals_make_one_successor(service: AuthorityService) -> None:
    old = _issue(service)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def renew() -> None:
        barrier.wait()
        try:
            service.renew(old, card_key(2).public_key(), birth_date=BIRTH)
            outcomes.append("renewed")
        except AlreadyRenewedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=renew) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "renewed"]


def test_verifier_tokens_are_stored_hashed(service: AuthorityService) -> None:
    name = f"center-{uuid.uuid4().hex[:8]}"
    token = service.add_verifier(name)
    assert token.startswith("kav_") and len(token) > 40
    assert service.authenticate(token) == name
    with service.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT name, token_hash FROM jpki_verifiers")).all()
    stored = {row.name: bytes(row.token_hash) for row in rows}
    assert stored[name] == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in repr(rows).encode()
    with pytest.raises(DuplicateVerifierError):
        service.add_verifier(name)
    for bad in ("", "kav_", token[:-1], token + "x", "Bearer " + token, "x" * 500):
        with pytest.raises(UnauthorizedError):
            service.authenticate(bad)
    second = service.add_verifier(name + "-b")
    assert second != token
    service.remove_verifier(name)
    with pytest.raises(UnauthorizedError):
        service.authenticate(token)
    assert service.authenticate(second) == name + "-b"
    with pytest.raises(UnknownVerifierError):
        service.remove_verifier(name)
    for bad_name in ("", " padded ", "x" * 65, "tab\tname"):
        with pytest.raises(VerifierError):
            service.add_verifier(bad_name)


def test_migrations_are_applied_once_and_checked(database_url: str) -> None:
    engine = migrate.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # idempotent
        assert migrate.current_revision(engine) == migrate.head_revision() == "0003"
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
        with pytest.raises(AuthorityStateError, match="unknown schema"):
            migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0003'"))
    finally:
        engine.dispose()


def test_the_schema_rejects_what_the_code_never_writes(service: AuthorityService) -> None:
    from sqlalchemy.exc import IntegrityError

    from center.authority.schema import certificates

    serial = _issue(service)
    with pytest.raises(IntegrityError), service.store.engine.begin() as connection:
        connection.execute(
            update(certificates).where(certificates.c.serial == serial).values(revocation_reason="lost_card")
        )  # reason without a time
    with pytest.raises(IntegrityError), service.store.engine.begin() as connection:
        connection.execute(
            update(certificates).where(certificates.c.serial == serial).values(municipality="1310")
        )


def test_the_default_database_is_a_private_sqlite_file(tmp_path: Path) -> None:
    from devtools.authority import open_test_authority

    with open_test_authority(tmp_path, now=NOW, clock=lambda: NOW) as svc:
        _issue(svc)
    assert (tmp_path / "authority.db").stat().st_mode & 0o777 == 0o600
    with pytest.raises(AuthorityStateError, match="unusable database URL"):
        AuthorityService.open(tmp_path, db_url="nosuchdb://x", create=False)


def test_a_database_of_the_first_schema_gains_the_kept_answers(database_url: str) -> None:
    """0001 -> 0002 with a certificate already recorded: it keeps its row, with no kept answer
    (the responder signs one when first asked)."""
    engine = migrate.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0001")  # a fresh database, brought to the first revision only
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO jpki_certificates (serial, ca_kind, generation, municipality, not_before,"
                    " not_after, issued_at) VALUES (77, 'user-auth', 2024, '131016', :t, :t, :t)"
                ),
                {"t": NOW},
            )
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == "0003"
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT municipality, ocsp_response, ocsp_produced_at FROM jpki_certificates"
                    " WHERE serial = 77"
                )
            ).one()
        assert tuple(row) == ("131016", None, None)
    finally:
        engine.dispose()


def test_renewed_certificates_of_an_older_schema_gain_their_chains(database_url: str) -> None:
    """0002 -> 0003 with renewals recorded: each renewed certificate gains its previous serials
    (the 16 newest) and loses its kept OCSP answer (signed without them); the others keep theirs."""
    engine = migrate.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0002")
        with engine.begin() as connection:
            for serial in range(1, 19):  # 1 renewed by 2, renewed by 3, … by 18
                connection.execute(
                    text(
                        "INSERT INTO jpki_certificates (serial, ca_kind, generation, municipality,"
                        " not_before, not_after, issued_at, previous_serial, ocsp_response,"
                        " ocsp_produced_at) VALUES (:serial, 'user-auth', 2023, '131016', :t, :t, :t,"
                        " :previous, :answer, :t)"
                    ),
                    {"serial": serial, "t": NOW, "previous": serial - 1 or None, "answer": b"kept"},
                )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            rows = {
                row.serial: (row.previous_serials, row.ocsp_response)
                for row in connection.execute(
                    text("SELECT serial, previous_serials, ocsp_response FROM jpki_certificates")
                )
            }
        assert rows[1] == (None, b"kept")
        assert rows[2] == ("1", None) and rows[3] == ("2 1", None)
        assert rows[17] == (" ".join(str(serial) for serial in range(16, 0, -1)), None)
        assert rows[18] == (" ".join(str(serial) for serial in range(17, 1, -1)), None)  # 16 newest
        store = AuthorityStore(engine)
        assert store.require(3).previous_serials == (2, 1)
    finally:
        engine.dispose()
