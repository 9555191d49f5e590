"""The audit chain is keyed: ``koufu center audit-verify`` (the command line, on a real database,
SQLite and PostgreSQL) finds a chain whose tail was rewritten by someone who may write the database
but has not the chain's key, whether they recompute plain SHA-256 hashes (as the chain was before)
or HMACs under a key of their own, and names the first row rewritten. An untouched chain verifies.
The incremental verification (from a mark) verifies the rows after it and finds the mark's row
changed or gone and rows deleted before it, but not an older row changed in place: the full one
does."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from center import audit
from center.audit import AuditEntry
from center.config import AUDIT_CHAIN_KEY, CenterConfig, initialise
from center.store.driver import Database
from center.store.tables import audit_log
from koufu.cli import main

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)
Link = Callable[[str, sa.Row[tuple[object, ...]]], str]  # (previous hash, row) -> the row's hash


@pytest.fixture
def center(tmp_path: Path, database_url: str) -> CenterConfig:
    """A center directory (its keys made by ``init``) whose chain has six decisions."""
    config = initialise(tmp_path / "center", database_url, "single")
    config.migrated_engine().dispose()

    async def decide() -> None:
        database = Database(database_url)
        writer = audit.AuditWriter(database, config.audit_chain_key)
        try:
            for index in range(6):
                await writer.record(
                    AuditEntry("session_opened", "accepted", None, "T-0001", f"session-{index}"),
                    NOW + dt.timedelta(seconds=index),
                )
        finally:
            await writer.close()
            await database.close()

    asyncio.run(decide())
    return config


def audit_verify(config: CenterConfig, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["center", "audit-verify", "--dir", str(config.directory)])
    return code, capsys.readouterr().out


def body(prev_hash: str, row: sa.Row[tuple[object, ...]]) -> bytes:
    """What a row's link covers, as an attacker who read the code writes it out."""
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)  # type: ignore[attr-defined]
    fields = [
        row.event,
        row.outcome,
        row.reason,
        row.terminal_id,
        row.session_id,
        row.subject,
        row.occurrences,
    ]
    text = json.dumps(
        [audit.CHAIN_CONTEXT, prev_hash, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), *fields],
        separators=(",", ":"),
    )
    return text.encode()


def plain_sha256(prev_hash: str, row: sa.Row[tuple[object, ...]]) -> str:
    return hashlib.sha256(body(prev_hash, row)).hexdigest()


def another_key(prev_hash: str, row: sa.Row[tuple[object, ...]]) -> str:
    return hmac.new(b"k" * 32, body(prev_hash, row), hashlib.sha256).hexdigest()


def rewrite_tail(config: CenterConfig, link: Link) -> int:
    """Change the fourth row's outcome, then link it and every row after it again with ``link``,
    directly in the database: the chain then hangs together for anyone without the chain's key.
    Returns the rewritten row's ``seq``."""
    engine = sa.create_engine(config.database_url)
    try:
        with engine.begin() as connection:
            rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
            first = rows[3].seq
            connection.execute(audit_log.update().where(audit_log.c.seq == first).values(outcome="refused"))
            prev_hash = rows[2].hash
            for row in connection.execute(
                sa.select(audit_log).where(audit_log.c.seq >= first).order_by(audit_log.c.seq)
            ).all():
                digest = link(prev_hash, row)
                connection.execute(
                    audit_log.update()
                    .where(audit_log.c.seq == row.seq)
                    .values(prev_hash=prev_hash, hash=digest)
                )
                prev_hash = digest
    finally:
        engine.dispose()
    return int(first)


def test_an_untouched_chain_verifies(center: CenterConfig, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = audit_verify(center, capsys)
    assert code == 0 and "audit log intact: 6 entries, head " in out


@pytest.mark.parametrize("link", [plain_sha256, another_key], ids=["plain-sha256", "another-key"])
def test_a_tail_rewritten_without_the_key_is_found_at_its_first_row(
    center: CenterConfig, link: Link, capsys: pytest.CaptureFixture[str]
) -> None:
    rewritten = rewrite_tail(center, link)
    code, out = audit_verify(center, capsys)
    assert code == 2
    assert f"audit log BROKEN at entry {rewritten} (session_opened, " in out
    assert "its hash does not verify under the chain's key; 3 entries before it verify" in out


def test_a_row_removed_from_the_middle_is_found_where_the_links_part(
    center: CenterConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = sa.create_engine(center.database_url)
    try:
        with engine.begin() as connection:
            seqs = connection.execute(sa.select(audit_log.c.seq).order_by(audit_log.c.seq)).scalars().all()
            connection.execute(audit_log.delete().where(audit_log.c.seq == seqs[1]))
    finally:
        engine.dispose()
    code, out = audit_verify(center, capsys)
    assert code == 2 and f"BROKEN at entry {seqs[2]} " in out and "does not follow the row before it" in out


def test_the_chain_is_verified_with_its_own_key_only(
    center: CenterConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The key is the directory's file: another key finds the very first row wrong, and a
    directory without the key is refused with the reason (it predates the keyed chain)."""
    key_file = center.path(AUDIT_CHAIN_KEY)
    key_file.write_bytes(b"x" * 32)
    code, out = audit_verify(center, capsys)
    assert code == 2 and "BROKEN at entry" in out and "0 entries before it verify" in out
    key_file.unlink()
    assert main(["center", "audit-verify", "--dir", str(center.directory)]) != 0
    assert "predates the keyed audit chain" in capsys.readouterr().err


# -- the incremental verification ------------------------------------------------------------------


def decide_more(config: CenterConfig, count: int) -> None:
    """``count`` more decisions in the chain, through the writer."""

    async def decide() -> None:
        database = Database(config.database_url)
        writer = audit.AuditWriter(database, config.audit_chain_key)
        try:
            for index in range(count):
                await writer.record(
                    AuditEntry("session_opened", "accepted", None, "T-0002", f"more-{index}"),
                    NOW + dt.timedelta(minutes=1, seconds=index),
                )
        finally:
            await writer.close()
            await database.close()

    asyncio.run(decide())


def verified(config: CenterConfig, since: audit.ChainMark | None = None) -> audit.ChainReport:
    engine = sa.create_engine(config.database_url)
    try:
        with engine.connect() as connection:
            return audit.verify_chain(connection, config.audit_chain_key, since=since)
    finally:
        engine.dispose()


def change(config: CenterConfig, statement: sa.Executable) -> None:
    engine = sa.create_engine(config.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(statement)
    finally:
        engine.dispose()


def marked_then_changed(config: CenterConfig, offset: int) -> audit.ChainMark:
    """The mark of a full verification, after which two more decisions are written and the row
    ``offset`` rows from the marked one is changed (its outcome "refused")."""
    mark = verified(config).mark
    assert mark is not None
    decide_more(config, 2)
    change(config, audit_log.update().where(audit_log.c.seq == mark.seq + offset).values(outcome="refused"))
    return mark


def test_the_incremental_verification_verifies_only_the_new_rows_and_ends_where_the_full_one_does(
    center: CenterConfig,
) -> None:
    full = verified(center)
    assert full.intact and full.rows == full.checked == 6 and full.mark is not None
    decide_more(center, 3)
    step = verified(center, full.mark)
    again = verified(center)
    assert (
        step.intact
        and (step.rows, step.checked) == (9, 3)
        and (step.head, step.seq) == (again.head, again.seq)
    )
    assert verified(center, step.mark).checked == 0  # nothing new: nothing verified
    assert verified(center, audit.ChainMark()) == again  # from the start: the full verification


def test_an_older_row_changed_is_missed_by_the_incremental_verification_and_found_by_the_full_one(
    center: CenterConfig,
) -> None:
    mark = marked_then_changed(center, -3)
    assert verified(center, mark).intact  # the incremental check cannot see it: so the page says
    full = verified(center)
    assert full.broken is not None and full.broken.seq == mark.seq - 3


def test_the_incremental_verification_finds_what_touches_its_mark_or_the_new_rows(
    center: CenterConfig,
) -> None:
    mark = marked_then_changed(center, +1)
    found = verified(center, mark).broken
    assert found is not None and (found.seq, found.why) == (
        mark.seq + 1,
        "its hash does not verify under the chain's key",
    )
    change(center, audit_log.update().where(audit_log.c.seq == mark.seq).values(reason="changed"))
    found = verified(center, mark).broken
    assert found is not None and (found.seq, found.why) == (mark.seq, "the row last verified was changed")
    change(center, audit_log.delete().where(audit_log.c.seq == mark.seq - 4))
    moved = audit.ChainMark(mark.seq - 1, verified_hash(center, mark.seq - 1), mark.rows - 1)
    found = verified(center, moved).broken
    assert found is not None and found.why == "rows before the row last verified were deleted or inserted"
    change(center, audit_log.delete().where(audit_log.c.seq == mark.seq))
    found = verified(center, mark).broken
    assert found is not None and (found.seq, found.at, found.why) == (
        mark.seq,
        None,
        "the row last verified is gone",
    )


def verified_hash(config: CenterConfig, seq: int) -> str:
    engine = sa.create_engine(config.database_url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar_one()
            )
    finally:
        engine.dispose()
