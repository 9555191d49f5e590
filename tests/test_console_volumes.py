"""Volumes (center.volumes) on SQLite and PostgreSQL, from orders made through the center's order
service at chosen times (support.console_orders): copies issued per municipality, certificate
type and hour or day of Japan, and refusals by code from the audit log; the period a page asks for
and its refusals; the copy's certificate type kept since migration 0010."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from center.audit import AuditEntry
from center.console.errors import BadInput
from center.console.pages.volumes import period_of, time_labels
from center.municipal_client import MunicipalRefusal
from center.store.engine import MIGRATIONS, make_engine, migrate
from center.store.tables import order_copies
from center.volumes import BadPeriod, Grouping, Period, Volumes, volumes
from documents import JST
from support.console_orders import OrderBook, item, make_orders

KEY = b"k" * 32
TOWN, OTHER = "131016", "271004"
STORE, OTHER_STORE = "ファミリーマート 千代田一番町店", "ローソン 大阪本町店"
DEC_7, DEC_8 = dt.date(2026, 12, 7), dt.date(2026, 12, 8)


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


async def two_days(book: OrderBook) -> None:
    """Orders on 7 and 8 December (times in UTC; Japan is 9 hours ahead)."""
    await book.settled(
        "T-0001", STORE, TOWN, [item("resident_record", 2), item("seal_registration")], utc(8, 0, 10)
    )
    await book.settled("T-0002", OTHER_STORE, OTHER, [item("tax")], utc(7, 23, 30))  # 08:30 on the 8th
    await book.settled("T-0001", STORE, TOWN, [item("resident_record")], utc(7, 14, 59))  # 23:59 on the 7th
    await book.settled("T-0001", STORE, TOWN, [item("family_register")], utc(7, 15, 0))  # 00:00 on the 8th
    await book.settled("T-0001", STORE, TOWN, [item("resident_record", 3)], utc(8, 0, 40), whole=1)  # a jam
    cancelled = await book.placed("T-0001", STORE, TOWN, [item("tax", 2)], utc(8, 0, 45))
    await book.service.void("T-0001", cancelled.order_id, "cancelled")  # a void: not a refusal
    await book.service.refunded("T-0001", cancelled.order_id)
    book.municipalities.refusing.add(OTHER)
    with pytest.raises(MunicipalRefusal):
        await book.placed("T-0002", OTHER_STORE, OTHER, [item("seal_registration")], utc(8, 0, 50))
    book.municipalities.refusing.clear()
    at = utc(8, 0, 55)
    await book.writer.record(AuditEntry("terminal_request", "refused", "bad_signature", "T-0009"), at)
    await book.writer.record(AuditEntry("unattributed_requests", "refused", "unsigned", occurrences=5), at)
    await book.writer.record(AuditEntry("console_sign_in", "refused", "unknown_credential"), at)
    await book.writer.record(AuditEntry("order_by_hand", "refused", "order_state", actor="sato"), at)
    await book.writer.record(AuditEntry("terminal_request", "refused", "bad_signature"), utc(9, 0, 0))  # 9th


@pytest.fixture
def books(database_url: str) -> str:
    make_orders(database_url, KEY, two_days)
    return database_url


def read(url: str, period: Period, municipality: str | None = None) -> Volumes:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return volumes(connection, period, municipality)
    finally:
        engine.dispose()


def test_copies_per_day_municipality_and_type_count_the_copies_printed_whole(books: str) -> None:
    found = read(books, Period(DEC_7, DEC_8, Grouping.DAY))
    assert [(c.bucket.date(), c.municipality, c.certificate_type, c.copies) for c in found.copies] == [
        (DEC_7, TOWN, "resident_record", 1),
        (DEC_8, TOWN, "family_register", 1),
        (DEC_8, TOWN, "resident_record", 3),  # two, and the one of three a jam let out
        (DEC_8, TOWN, "seal_registration", 1),
        (DEC_8, OTHER, "tax", 1),
    ]
    assert all(count.bucket.tzinfo == JST and count.bucket.hour == 0 for count in found.copies)
    assert found.total_copies == 7
    assert found.by_municipality() == [(TOWN, 6), (OTHER, 1)]
    assert found.by_type() == [
        ("resident_record", 4),
        ("seal_registration", 1),
        ("tax", 1),
        ("family_register", 1),
    ]
    assert found.over_time() == {
        "resident_record": [1, 3],
        "seal_registration": [0, 1],
        "tax": [0, 1],
        "family_register": [0, 1],
    }


def test_copies_per_hour_fall_in_japan_s_hours(books: str) -> None:
    found = read(books, Period(DEC_8, DEC_8, Grouping.HOUR))
    assert [
        (c.bucket.hour, c.certificate_type, c.copies) for c in found.copies if c.municipality == TOWN
    ] == [
        (0, "family_register", 1),  # 15:00 UTC on the 7th
        (9, "resident_record", 3),
        (9, "seal_registration", 1),
    ]
    assert [(c.bucket.hour, c.municipality) for c in found.copies if c.certificate_type == "tax"] == [
        (8, OTHER)
    ]
    series = found.over_time()
    assert len(series["resident_record"]) == 24 and series["resident_record"][9] == 3
    assert sum(series["resident_record"]) == 3  # 23:59 on the 7th is not the 8th's


def test_refusals_come_from_the_audit_log_by_code_without_voids_operators_or_sign_ins(books: str) -> None:
    found = read(books, Period(DEC_8, DEC_8, Grouping.HOUR))
    assert [(r.event, r.code, r.refusals) for r in found.refusals] == [
        ("unattributed_requests", "unsigned", 5),  # a tally line counts its occurrences
        ("terminal_request", "bad_signature", 1),
        ("order_refused", "refused_by_municipality", 1),
    ]
    assert found.total_refusals == 7
    assert read(books, Period(DEC_8, DEC_8, Grouping.DAY)).refusals == found.refusals
    assert [r.code for r in read(books, Period(DEC_7, DEC_7, Grouping.DAY)).refusals] == []


def test_a_municipality_sees_its_own_copies_and_its_residents_refusals_only(books: str) -> None:
    town = read(books, Period(DEC_7, DEC_8, Grouping.DAY), TOWN)
    assert {count.municipality for count in town.copies} == {TOWN} and town.total_copies == 6
    assert town.refusals == ()  # a terminal's request or a tally belongs to no municipality
    other = read(books, Period(DEC_7, DEC_8, Grouping.DAY), OTHER)
    assert other.total_copies == 1
    assert [(r.event, r.code, r.refusals) for r in other.refusals] == [
        ("order_refused", "refused_by_municipality", 1)
    ]
    assert read(books, Period(DEC_8, DEC_8, Grouping.DAY), "011002").total_copies == 0


def test_a_period_with_nothing_is_empty_on_every_bucket(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    found = read(database_url, Period(DEC_8, DEC_8, Grouping.HOUR))
    assert found.copies == () and found.refusals == () and found.over_time() == {}
    assert found.by_municipality() == [] and found.by_type() == []


def test_a_period_is_checked_and_cut_into_japan_s_hours_or_days() -> None:
    day = Period(DEC_8, DEC_8, Grouping.HOUR)
    assert len(day.buckets()) == 24 and day.buckets()[0] == dt.datetime(2026, 12, 8, tzinfo=JST)
    assert day.start == dt.datetime(2026, 12, 7, 15, tzinfo=dt.UTC)
    assert day.end == dt.datetime(2026, 12, 8, 15, tzinfo=dt.UTC)
    assert len(Period(dt.date(2026, 12, 2), DEC_8, Grouping.HOUR).buckets()) == 168
    assert len(Period(dt.date(2026, 9, 8), DEC_8, Grouping.DAY).buckets()) == 92
    assert Period.ending(DEC_8, Grouping.DAY) == Period(dt.date(2026, 12, 2), DEC_8, Grouping.DAY)
    assert Period.starting(DEC_7, Grouping.HOUR) == Period(DEC_7, DEC_7, Grouping.HOUR)
    assert day.bucket_of((int(day.start.timestamp()) + 9 * 3600) // 3600 + 10) == dt.datetime(
        2026, 12, 8, 10, tzinfo=JST
    )
    for first, last, by, code in (
        (DEC_8, DEC_7, Grouping.DAY, "bad_range"),
        (dt.date(2026, 12, 1), DEC_8, Grouping.HOUR, "range_too_long"),
        (dt.date(2026, 9, 7), DEC_8, Grouping.DAY, "range_too_long"),
    ):
        with pytest.raises(BadPeriod) as refused:
            Period(first, last, by)
        assert refused.value.code == code


def test_the_page_s_period_defaults_to_today_by_hour_or_the_last_week_by_day() -> None:
    assert period_of({}, DEC_8) == Period(DEC_8, DEC_8, Grouping.HOUR)
    assert period_of({"by": "day"}, DEC_8) == Period(dt.date(2026, 12, 2), DEC_8, Grouping.DAY)
    assert period_of({"by": "day", "from": "2026-11-01"}, DEC_8) == Period(
        dt.date(2026, 11, 1), dt.date(2026, 11, 7), Grouping.DAY
    )
    assert period_of({"to": "2026-12-07", "from": ""}, DEC_8) == Period(DEC_7, DEC_7, Grouping.HOUR)
    for asked, code in (
        ({"by": "week"}, "bad_grouping"),
        ({"from": "2026-12-32"}, "bad_day"),
        ({"from": "yesterday"}, "bad_day"),
        ({"from": "2026-12-08", "to": "2026-12-01"}, "bad_range"),
        ({"from": "2026-12-01", "to": "2026-12-08"}, "range_too_long"),
        ({"by": "day", "from": "2026-01-01", "to": "2026-12-08"}, "range_too_long"),
    ):
        with pytest.raises(BadInput) as refused:
            period_of(asked, DEC_8)
        assert refused.value.code == code, asked


def test_time_labels_are_thinned_to_what_fits() -> None:
    hours = time_labels(Period(DEC_8, DEC_8, Grouping.HOUR))
    assert [label for label in hours if label] == [f"{hour:02d}:00" for hour in range(0, 24, 3)]
    week = time_labels(Period(dt.date(2026, 12, 2), DEC_8, Grouping.HOUR))
    assert len(week) == 168 and [label for label in week if label][:2] == ["12-02", "12-03"]
    quarter = time_labels(Period(dt.date(2026, 9, 8), DEC_8, Grouping.DAY))
    assert len([label for label in quarter if label]) == 14  # one a week


def test_migration_0010_gives_every_copy_its_type_and_goes_back(database_url: str) -> None:
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
        now = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)
        request = {
            "items": [{"certificate_type": "tax", "copies": 1}, {"certificate_type": "seal_registration"}]
        }
        with engine.begin() as connection:
            for order_id, kept in (("O-1", json.dumps(request)), ("O-2", "not json")):
                connection.execute(
                    sa.text(
                        "INSERT INTO orders (id, terminal_id, idempotency_key, request_hash, session_id, "
                        "municipality, subject, store, state, municipal_request, void_pending, created_at, "
                        "updated_at, deadline) VALUES (:id, 'T-1', :id, 'h', 's', '131016', 'x', 'store', "
                        "'settled', :request, false, :now, :now, :now)"
                    ),
                    {"id": order_id, "request": kept, "now": now},
                )
            for number, (order_id, index) in enumerate((("O-1", 0), ("O-1", 1), ("O-2", 0))):
                connection.execute(
                    sa.text(
                        "INSERT INTO order_copies (issue_number, order_id, item, copy, pages, fee, "
                        "content_hash, code_hash, printed_at) "
                        "VALUES (:number, :order_id, :item, 1, 1, 300, 'c', 'h', :now)"
                    ),
                    {"number": f"N-{number}", "order_id": order_id, "item": index, "now": now},
                )
        migrate(engine)
        with engine.connect() as connection:
            kinds = dict(
                connection.execute(
                    sa.select(order_copies.c.issue_number, order_copies.c.certificate_type)
                ).all()
            )
        assert kinds == {"N-0": "tax", "N-1": "seal_registration", "N-2": "unknown"}
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes("order_copies")}
        assert "ix_order_copies_printed_at" in indexes
        assert "ix_audit_log_at" in {index["name"] for index in sa.inspect(engine).get_indexes("audit_log")}
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        assert "certificate_type" not in {
            column["name"] for column in sa.inspect(engine).get_columns("order_copies")
        }
    finally:
        engine.dispose()
