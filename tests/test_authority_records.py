"""The authority's records as its HTTP server reads them (``records.py``, on the drivers), against
the same rows the SQLAlchemy store writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from cryptography.x509 import ocsp

from center.authority.errors import AuthorityStateError
from center.authority.records import AsyncRecords
from center.authority.service import AuthorityService
from center.authority.store import ProducedAnswer
from devtools.authority import card_key
from support.fixtures_authority import NOW

BIRTH = dt.date(1990, 5, 10)


def _url(service: AuthorityService) -> str:
    return service.store.engine.url.render_as_string(hide_password=False)


def test_records_read_by_the_driver_equal_the_stores(service: AuthorityService) -> None:
    good = service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131016")
    held = service.issue_user_auth(card_key(1).public_key(), birth_date=BIRTH, municipality="011002")
    service.revoke(
        held.serial_number,
        "certificate_hold",
        now=dt.datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=dt.UTC),
    )
    renewed = service.renew(good.serial_number, card_key(2).public_key(), birth_date=BIRTH)
    twice = service.renew(renewed.serial_number, card_key(3).public_key(), birth_date=BIRTH)
    serials = (good.serial_number, held.serial_number, renewed.serial_number, twice.serial_number, 424242)

    async def read() -> list[object]:
        records = AsyncRecords(_url(service))
        try:
            for beyond in (0, -1, 2**63):  # no such serial can be stored: not asked at all
                assert await records.get(beyond) is None
            return [await records.get(serial) for serial in serials]
        finally:
            await records.close()

    expected = [service.store.get(serial) for serial in serials]
    assert asyncio.run(read()) == expected
    assert expected[3] is not None and expected[3].answer is not None  # signed at issuance
    assert expected[0] is not None and expected[0].answer is None  # cleared: superseded
    assert expected[4] is None
    chains = [record.previous_serials for record in expected if record is not None]
    assert chains == [(), (), (good.serial_number,), (renewed.serial_number, good.serial_number)]


def test_an_answer_is_kept_only_while_its_status_holds(service: AuthorityService) -> None:
    cert = service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131016")
    serial = cert.serial_number
    before = service.store.get(serial)
    assert before is not None and before.answer is not None
    newer = ProducedAnswer(b"newer answer", NOW + dt.timedelta(minutes=6))

    async def keep() -> tuple[bool, bool, bool]:
        records = AsyncRecords(_url(service))
        try:
            kept_while_good = await records.keep_answer(before, newer)
            service.revoke(serial, "lost_card", now=NOW + dt.timedelta(minutes=7))
            kept_after_revocation = await records.keep_answer(before, newer)
            revoked = await records.get(serial)
            assert revoked is not None and revoked.answer is None
            kept_for_the_revoked = await records.keep_answer(revoked, newer)
            return kept_while_good, kept_after_revocation, kept_for_the_revoked
        finally:
            await records.close()

    assert asyncio.run(keep()) == (True, False, True)
    after = service.store.get(serial)
    assert after is not None and after.answer == newer and after.revoked


def test_a_database_away_is_an_authority_state_error() -> None:
    async def ask() -> None:
        records = AsyncRecords("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
        try:
            await records.get(1)
        finally:
            await records.close()

    with pytest.raises(AuthorityStateError):
        asyncio.run(ask())


def test_the_kept_answer_is_an_ocsp_response(service: AuthorityService) -> None:
    cert = service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131016")

    async def read() -> bytes:
        records = AsyncRecords(_url(service))
        try:
            record = await records.get(cert.serial_number)
        finally:
            await records.close()
        assert record is not None and record.answer is not None
        return record.answer.der

    response = ocsp.load_der_ocsp_response(asyncio.run(read()))
    assert response.serial_number == cert.serial_number
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
