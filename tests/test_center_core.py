"""The center's building blocks on a real database: terminal request authentication, the audit
chain, resident verification. (The HTTP service is tested end to end in test_center_api.py.)"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from center import audit, terminals
from center.audit import AuditEntry
from center.config import CenterConfig, ConfigError
from center.errors import CenterError, ResidentRefused, UnattributedRequest
from center.jpki_verify import RevocationStatus, VerifiedResident, check_proof, check_revocation
from center.protocol import sign_request
from center.signing import Target
from center.store.driver import Database, Sql, stored_time
from center.store.engine import make_engine, migrate
from center.store.tables import audit_log, request_nonces
from center.store.tables import sessions as sessions_table
from center.terminal_status import Action, change_status
from center.terminals import TerminalCA, request_credentials
from support.signature_fields import lowered, with_body, with_parameters

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
SESSIONS = Target("POST", "/v1/sessions")
CHAIN_KEY = bytes(range(32))  # the audit chain's key (a file of the center's directory in service)


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = make_engine(database_url)
    migrate(engine)
    return engine


@pytest.fixture(scope="module")
def terminal_ca(tmp_path_factory: pytest.TempPathFactory) -> TerminalCA:
    return TerminalCA.load_or_create(tmp_path_factory.mktemp("terminal-ca"), now=NOW)


def on_database(url: str, work: Callable[[Database], Awaitable[object]]) -> object:
    """``work`` on its own connections, in a thread of its own (also from inside an event loop)."""

    async def run() -> object:
        database = Database(url)
        try:
            return await work(database)
        finally:
            await database.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


Attempt = tuple[dict[str, str], bytes, dt.datetime]  # headers, body, when the center receives it


def authenticate(
    url: str, *attempts: Attempt, between: Callable[[], None] = lambda: None
) -> list[str | CenterError]:
    """Each attempt at ``POST /v1/sessions``, in turn, by one center process's authenticator
    (``between`` runs between two: what an operator does meanwhile)."""

    async def attempt_all() -> list[str | CenterError]:
        database = Database(url)
        authenticator = terminals.Authenticator(database)
        outcomes: list[str | CenterError] = []
        try:
            for index, (headers, body, when) in enumerate(attempts):
                if index:
                    between()
                try:
                    outcomes.append(
                        await authenticator.authenticate(
                            request_credentials(lowered(headers), body), SESSIONS, when
                        )
                    )
                except CenterError as error:
                    outcomes.append(error)
        finally:
            await database.close()
        return outcomes

    return asyncio.run(attempt_all())


def codes(outcomes: list[str | CenterError]) -> list[str]:
    return [outcome.code if isinstance(outcome, CenterError) else outcome for outcome in outcomes]


def test_migrations_are_idempotent(engine: sa.Engine) -> None:
    migrate(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"terminals", "sessions", "audit_log", "request_nonces"} <= tables


def test_signed_request_is_accepted_once(
    engine: sa.Engine, database_url: str, terminal_ca: TerminalCA
) -> None:
    with engine.begin() as connection:
        terminal = terminals.enroll(connection, terminal_ca, "T-0001", "store", NOW)
    first, second = (
        sign_request(terminal.key, "T-0001", "POST", "/v1/sessions", b"{}", now=NOW).as_dict()
        for _ in range(2)
    )
    # the second and third attempts take the short way on PostgreSQL (the terminal's key known)
    assert codes(
        authenticate(database_url, (first, b"{}", NOW), (first, b"{}", NOW), (second, b"{}", NOW))
    ) == ["T-0001", "replayed_request", "T-0001"]
    # another center process knows nothing of the first: the nonce in the database refuses it
    assert codes(authenticate(database_url, (first, b"{}", NOW))) == ["replayed_request"]


@pytest.mark.parametrize(
    ("tamper", "code", "attributed"),
    [
        (lambda h, body, when: (with_body(h, body + b" "), body + b" ", when), "bad_request_signature", True),
        (lambda h, body, when: (h, body + b" ", when), "bad_digest", False),
        (lambda h, body, when: (with_parameters(h, keyid="T-9999"), body, when), "unknown_terminal", False),
        (lambda h, body, when: (h, body, when + dt.timedelta(minutes=3)), "clock_skew", True),
        (
            lambda h, body, when: (with_parameters(h, keyid="T-9999"), body, when + dt.timedelta(minutes=3)),
            "clock_skew",
            False,
        ),
        (lambda h, body, when: (with_parameters(h, nonce="short"), body, when), "malformed_signature", False),
        (
            lambda h, body, when: (with_parameters(h, nonce="A" * 22 + "=" * 60), body, when),
            "malformed_signature",
            False,
        ),
        (lambda h, body, when: ({**h, "signature": "!!"}, body, when), "malformed_signature", False),
        (
            lambda h, body, when: (with_parameters(h, created="soon"), body, when),
            "malformed_signature",
            False,
        ),
        (
            lambda h, body, when: ({k: v for k, v in h.items() if k != "signature-input"}, body, when),
            "unsigned_request",
            False,
        ),
    ],
)
def test_bad_terminal_requests_are_refused(
    engine: sa.Engine,
    database_url: str,  # type: ignore[no-untyped-def]
    terminal_ca: TerminalCA,
    tamper,
    code,
    attributed,
) -> None:
    """Each refusal is held to the enrolled terminal the request names, or to none (an
    ``UnattributedRequest``: counted, not audited one by one, see center/refusal_tally.py)."""
    with engine.begin() as connection:
        terminal = terminals.enroll(connection, terminal_ca, "T-0002", "store", NOW)
    signed = lowered(sign_request(terminal.key, "T-0002", "POST", "/v1/sessions", b"{}", now=NOW).as_dict())
    [refused] = authenticate(database_url, tamper(signed, b"{}", NOW))
    assert isinstance(refused, CenterError) and refused.code == code
    assert isinstance(refused, UnattributedRequest) is not attributed


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_suspended_and_revoked_terminals_are_forbidden(
    engine: sa.Engine, database_url: str, terminal_ca: TerminalCA, status: str
) -> None:
    with engine.begin() as connection:
        terminal = terminals.enroll(connection, terminal_ca, "T-0003", "store", NOW)

    def attempt() -> Attempt:
        return sign_request(terminal.key, "T-0003", "POST", "/v1/sessions", b"", now=NOW).as_dict(), b"", NOW

    action = Action.SUSPEND if status == "suspended" else Action.REVOKE

    def operator_sets_status() -> None:
        on_database(database_url, lambda db: change_status(db, CHAIN_KEY, "T-0003", action, "cli:test", NOW))

    # the process knows the terminal's key after the first request: the second is refused all the same
    accepted, refused = authenticate(database_url, attempt(), attempt(), between=operator_sets_status)
    assert accepted == "T-0003"
    assert isinstance(refused, CenterError)
    assert (refused.code, refused.status) == (f"terminal_{status}", 403)
    [fresh] = authenticate(database_url, attempt())  # a process that never saw the terminal
    assert isinstance(fresh, CenterError) and fresh.code == f"terminal_{status}"
    if status == "revoked":
        with pytest.raises(CenterError):
            on_database(
                database_url,
                lambda db: change_status(db, CHAIN_KEY, "T-0003", Action.ACTIVATE, "cli:test", NOW),
            )


def test_old_request_nonces_are_forgotten(
    engine: sa.Engine, database_url: str, terminal_ca: TerminalCA
) -> None:
    with engine.begin() as connection:
        terminal = terminals.enroll(connection, terminal_ca, "T-0004", "store", NOW)
    old, recent = (
        sign_request(terminal.key, "T-0004", "POST", "/v1/sessions", b"", now=when).as_dict()
        for when in (NOW - dt.timedelta(minutes=10), NOW)
    )
    earlier = NOW - dt.timedelta(minutes=10)
    assert codes(authenticate(database_url, (old, b"", earlier), (recent, b"", NOW))) == ["T-0004"] * 2

    async def purge() -> int:
        database = Database(database_url)
        try:
            async with database.connection() as connection:
                return await terminals.purge_nonces(connection, NOW)
        finally:
            await database.close()

    assert asyncio.run(purge()) == 1  # the old one only: the recent one still guards against a replay
    assert codes(authenticate(database_url, (recent, b"", NOW))) == ["replayed_request"]
    # the old request, replayed now, is refused for its age
    assert codes(authenticate(database_url, (old, b"", NOW))) == ["clock_skew"]


def test_driver_and_sqlalchemy_read_each_others_times(engine: sa.Engine, database_url: str) -> None:
    """The request path writes through the driver, the tools read through SQLAlchemy, and back."""
    written = dt.datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=dt.UTC)
    insert = Sql("INSERT INTO request_nonces (terminal_id, nonce, seen_at) VALUES (:t, :n, :at)")
    select = Sql("SELECT seen_at FROM request_nonces WHERE nonce = :n")

    async def through_driver() -> dt.datetime:
        database = Database(database_url)
        try:
            async with database.connection() as connection:
                await connection.execute(insert, {"t": "T-1", "n": "by-driver", "at": written})
                row = await connection.one(select, {"n": "by-sqlalchemy"})
        finally:
            await database.close()
        assert row is not None
        return stored_time(row["seen_at"])

    with engine.begin() as connection:
        connection.execute(
            request_nonces.insert().values(terminal_id="T-1", nonce="by-sqlalchemy", seen_at=written)
        )
    assert asyncio.run(through_driver()) == written
    with engine.begin() as connection:
        read = connection.execute(
            sa.select(request_nonces.c.seen_at).where(request_nonces.c.nonce == "by-driver")
        ).scalar_one()
    assert (read if read.tzinfo else read.replace(tzinfo=dt.UTC)) == written


def test_remembered_calendar_decisions_change_at_the_calendars_edges(
    engine: sa.Engine, database_url: str
) -> None:
    """A process remembers decisions, but only until the opening or closing they name."""
    from center.calendar import Closed, Open, ServiceCalendar
    from center.calendar_store import CalendarCache, store_calendar
    from documents import JST

    before_opening = dt.datetime(2026, 11, 24, 6, 29, 59, tzinfo=JST)  # a Tuesday; opens 6:30
    with engine.begin() as connection:
        store_calendar(connection, ServiceCalendar.default(), NOW)

    async def ask() -> list[object]:
        database = Database(database_url)
        cache = CalendarCache(database)
        try:
            return [
                await cache.check(before_opening),
                await cache.open_types(before_opening, "131016"),
                await cache.check(before_opening + dt.timedelta(seconds=1)),
                await cache.open_types(before_opening + dt.timedelta(seconds=1), "131016"),
                await cache.check(before_opening + dt.timedelta(seconds=2)),
            ]
        finally:
            await database.close()

    closed, offers_closed, opened, offers_open, remembered = asyncio.run(ask())
    assert isinstance(closed, Closed) and closed.reopens_at == before_opening + dt.timedelta(seconds=1)
    assert all(isinstance(decision, Closed) for decision in offers_closed.values())  # type: ignore[attr-defined]
    assert isinstance(opened, Open)
    assert all(isinstance(decision, Open) for decision in offers_open.values())  # type: ignore[attr-defined]
    assert remembered is opened  # remembered: nothing changes until the evening's closing


def test_audit_chain_detects_tampering(engine: sa.Engine, database_url: str) -> None:
    async def record_five() -> None:
        database = Database(database_url)
        writer = audit.AuditWriter(database, CHAIN_KEY)
        try:  # at once: the writer puts them in one or more batches
            await asyncio.gather(
                *(
                    writer.record(
                        AuditEntry("session_opened", "accepted", None, "T-0001", f"s{index}"),
                        NOW + dt.timedelta(seconds=index),
                    )
                    for index in range(5)
                )
            )
        finally:
            await writer.close()
            await database.close()

    asyncio.run(record_five())
    with engine.begin() as connection:
        assert audit.verify_chain(connection, CHAIN_KEY).rows == 5
        assert audit.verify_chain(connection, CHAIN_KEY).intact
        connection.execute(audit_log.update().where(audit_log.c.seq == 3).values(outcome="refused"))
        report = audit.verify_chain(connection, CHAIN_KEY)
    assert not report.intact and report.broken_at == 3


def test_changes_written_together_refuse_one_by_one(engine: sa.Engine, database_url: str) -> None:
    """Decisions whose changes go in one batch (one statement for several rows): each change
    that must touch one row and finds none refuses only its own decision, which is audited as
    refused; the others commit."""
    insert = Sql(
        "INSERT INTO sessions (id, terminal_id, challenge, created_at, expires_at, status) "
        "VALUES (:id, 'T-0001', :challenge, :at, :at, 'open')"
    )
    consume = Sql(
        "UPDATE sessions SET consumed_at = :at, status = 'authenticated' "
        "WHERE id = :id AND consumed_at IS NULL"
    )

    async def run() -> list[str]:
        database = Database(database_url)
        writer = audit.AuditWriter(database, CHAIN_KEY)

        def decide(session: str, change: audit.Change) -> object:
            def refused(error: CenterError) -> AuditEntry:
                return AuditEntry("resident_authentication", "refused", error.code, "T-0001", session)

            return writer.record(
                AuditEntry("resident_authenticated", "accepted", None, "T-0001", session),
                NOW,
                change=change,
                refused=refused if change.refusal else None,
            )

        try:
            await asyncio.gather(
                *(
                    decide(session, audit.Change(insert, {"id": session, "challenge": b"c", "at": NOW}))
                    for session in ("a", "b")
                )
            )
            used = CenterError("challenge_used", "used")
            outcomes = await asyncio.gather(
                *(  # at once: one batch, one statement for the five
                    decide(session, audit.Change(consume, {"id": session, "at": NOW}, refusal=used))
                    for session in ("a", "a", "b", "a", "nobody")
                ),
                return_exceptions=True,
            )
            return ["ok" if outcome is None else outcome.code for outcome in outcomes]  # type: ignore[attr-defined]
        finally:
            await writer.close()
            await database.close()

    assert asyncio.run(run()) == ["ok", "challenge_used", "ok", "challenge_used", "challenge_used"]
    with engine.begin() as connection:
        lines = connection.execute(
            sa.select(audit_log.c.outcome, audit_log.c.reason).order_by(audit_log.c.seq)
        ).all()
        assert audit.verify_chain(connection, CHAIN_KEY).intact
    assert [tuple(line) for line in lines[2:]] == [
        ("accepted", None),
        ("refused", "challenge_used"),
        ("accepted", None),
        ("refused", "challenge_used"),
        ("refused", "challenge_used"),
    ]


def test_a_failing_change_fails_only_its_own_decision(
    engine: sa.Engine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch in which one change breaks a constraint (a session id used twice): that decision
    gets the database's error and nothing of it is written; the batch's other decisions commit;
    the chain stays whole; the failed transaction ends cleanly (no warning from the driver: on
    PostgreSQL the batch is one pipeline) and the writer's next batches go on, on the same
    connection."""
    insert = Sql(
        "INSERT INTO sessions (id, terminal_id, challenge, created_at, expires_at, status) "
        "VALUES (:id, 'T-0001', :challenge, :at, :at, 'open')"
    )

    async def run() -> list[object]:
        database = Database(database_url, pool_size=1)  # one connection: the failed one is reused
        writer = audit.AuditWriter(database, CHAIN_KEY)

        def opened(session: str) -> Awaitable[None]:
            return writer.record(
                AuditEntry("session_opened", "accepted", None, "T-0001", session),
                NOW,
                change=audit.Change(insert, {"id": session, "challenge": b"c", "at": NOW}),
            )

        try:
            await opened("taken")
            outcomes = await asyncio.gather(
                *(opened(session) for session in ("a", "taken", "b")), return_exceptions=True
            )
            await opened("c")
            return outcomes
        finally:
            await writer.close()
            await database.close()

    with caplog.at_level(logging.WARNING, logger="psycopg"):
        first, duplicate, second = asyncio.run(run())
    assert not [record for record in caplog.records if record.name.startswith("psycopg")]
    assert first is None and second is None
    assert isinstance(duplicate, (sqlite3.IntegrityError, psycopg.errors.UniqueViolation))
    with engine.begin() as connection:
        sessions = connection.execute(sa.select(sessions_table.c.id).order_by(sessions_table.c.id)).scalars()
        assert list(sessions) == ["a", "b", "c", "taken"]
        lines = connection.execute(sa.select(audit_log.c.session_id).order_by(audit_log.c.seq)).scalars()
        assert sorted(lines) == ["a", "b", "c", "taken"]
        assert audit.verify_chain(connection, CHAIN_KEY).intact


def test_audit_subjects_are_keyed_hashes() -> None:
    first = audit.subject_of(123456, b"secret-a")
    assert first != audit.subject_of(123456, b"secret-b") and "123456" not in first


# -- resident verification -----------------------------------------------------------------------


def verify_resident(
    der: bytes,
    signature: bytes,
    message: bytes,
    *,
    anchors: list[x509.Certificate],
    status: RevocationStatus = RevocationStatus.GOOD,
    now: dt.datetime,
) -> VerifiedResident:
    """The center's checks of a proof in its order: the proof itself, then the authority's
    answer (``status``) about the certificate."""
    verified = check_proof(der, signature, message, anchors=anchors, now=now)
    check_revocation(status)
    return verified


@pytest.fixture(scope="module")
def resident(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from center.authority.ca import TestAuthority, generate_key

    authority = TestAuthority.load_or_create(tmp_path_factory.mktemp("jpki"), now=NOW)
    key = generate_key()
    cert = authority.issue_user_auth_certificate(key.public_key(), birth_date=dt.date(1990, 5, 10), now=NOW)
    return authority, key, cert


def proof(key: rsa.RSAPrivateKey, message: bytes) -> bytes:
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def test_resident_verification_accepts_a_good_proof(resident) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    authority, key, cert = resident
    verified = verify_resident(
        cert.public_bytes(Encoding.DER),
        proof(key, b"binding"),
        b"binding",
        anchors=[authority.user_auth.certificate],
        now=NOW,
    )
    assert verified.serial == cert.serial_number


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("not_der", "certificate_not_der"),
        ("garbage_der", "certificate_not_der"),
        ("wrong_anchor", "untrusted_certificate"),
        ("expired", "certificate_expired"),
        ("not_yet_valid", "certificate_not_yet_valid"),
        ("short_signature", "bad_signature_length"),
        ("other_message", "bad_signature"),
        ("revoked", "certificate_revoked"),
        ("unknown", "certificate_unknown"),
    ],
)
def test_resident_verification_refusals(resident, case: str, code: str) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    authority, key, cert = resident
    der = cert.public_bytes(Encoding.DER)
    signature = proof(key, b"binding")
    anchors = [authority.user_auth.certificate]
    now, status = NOW, RevocationStatus.GOOD
    if case == "not_der":
        der = b"\x01\x02"
    elif case == "garbage_der":
        der = b"\x30\x82\x01\x00" + bytes(256)
    elif case == "wrong_anchor":
        anchors = [authority.signing.certificate]
    elif case == "expired":
        now = cert.not_valid_after_utc + dt.timedelta(seconds=1)
    elif case == "not_yet_valid":
        now = cert.not_valid_before_utc - dt.timedelta(seconds=1)
    elif case == "short_signature":
        signature = signature[:-1]
    elif case == "other_message":
        signature = proof(key, b"another session")
    elif case in ("revoked", "unknown"):
        status = RevocationStatus(case)
    with pytest.raises(ResidentRefused) as refused:
        verify_resident(der, signature, b"binding", anchors=anchors, status=status, now=now)
    assert refused.value.code == code


def test_config_refuses_a_single_server_build_on_a_multi_server_site(tmp_path: Path) -> None:
    config = CenterConfig(tmp_path, "sqlite:///x.db", "multi")
    with pytest.raises(ConfigError, match="PostgreSQL"):
        config.check()
    with pytest.raises(ConfigError, match="workers"):
        CenterConfig(tmp_path, "sqlite:///x.db", "single").check(workers=2)
    CenterConfig(tmp_path, "postgresql+psycopg://u@h/d", "multi").check(workers=4)


def test_center_refuses_to_start_on_a_mismatched_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from koufu.cli import main

    assert main(["center", "init", "--dir", str(tmp_path)]) == 0
    assert main(["center", "serve", "--dir", str(tmp_path), "--workers", "2"]) == 1
    assert "several workers need topology 'multi'" in capsys.readouterr().err
    config = CenterConfig.load(tmp_path)
    config.topology = "multi"
    config.save()
    assert main(["center", "serve", "--dir", str(tmp_path)]) == 1
    assert "needs PostgreSQL" in capsys.readouterr().err
    config.topology = "single"
    config.save()
    assert main(["center", "serve", "--dir", str(tmp_path)]) == 1  # no JPKI authority configured
    assert "no JPKI authority configured" in capsys.readouterr().err


def test_mutated_certificates_never_escape_as_crashes(resident) -> None:  # type: ignore[no-untyped-def]
    """Byte mutations of a real certificate: refused with a code, never an unexpected exception."""
    import random

    from cryptography.hazmat.primitives.serialization import Encoding

    authority, key, cert = resident
    der = bytearray(cert.public_bytes(Encoding.DER))
    randomness = random.Random(7)
    for _ in range(2000):
        mutated = bytearray(der)
        for _ in range(randomness.randint(1, 3)):
            mutated[randomness.randrange(len(mutated))] = randomness.randrange(256)
        with contextlib.suppress(ResidentRefused):
            verify_resident(
                bytes(mutated), proof(key, b"m"), b"m", anchors=[authority.user_auth.certificate], now=NOW
            )


def test_sessions_too_old_to_order_in_forget_their_holder(engine: sa.Engine, database_url: str) -> None:
    from center.orders import ORDER_WINDOW, forget_holders

    with engine.begin() as connection:
        for name, consumed in (("old", NOW - ORDER_WINDOW - dt.timedelta(seconds=1)), ("recent", NOW)):
            connection.execute(
                sessions_table.insert().values(
                    id=name,
                    terminal_id="T-0001",
                    challenge=b"c",
                    created_at=consumed,
                    expires_at=consumed,
                    consumed_at=consumed,
                    subject="s" * 64,
                    municipality="131016",
                    status="authenticated",
                    holder_proof='{"certificate": "canary"}',
                )
            )

    async def forget() -> int:
        database = Database(database_url)
        try:
            async with database.connection() as connection:
                return await forget_holders(connection, NOW)
        finally:
            await database.close()

    assert asyncio.run(forget()) == 1 and asyncio.run(forget()) == 0
    with engine.connect() as connection:
        query = sa.select(sessions_table.c.id, sessions_table.c.holder_proof)
        rows = dict(connection.execute(query).all())
    assert rows == {
        "old": None,
        "recent": '{"certificate": "canary"}',
    }  # the subject (keyed hash) stays for the audit
