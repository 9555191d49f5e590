"""Volumes (交付通数と拒否の件数): copies issued per municipality, certificate type and hour or day
over a period of days in Japan, and the refusals of the period by code — what the operators'
console charts and gives as CSV.

- **A copy issued** is a copy that came out whole at a terminal (``order_copies.printed_at``),
  counted at that time: the copy the resident took and the fee is due for. A copy the
  municipality made that never came out whole is void and not counted.
- **Refusals** are read from the audit log, which is authoritative for them: every refusal the
  center makes is one of its lines (a terminal's request, a session, a card's proof, an order the
  municipality refused, a stop), chained and kept, whereas an order row exists only once an order
  was placed. A line holds a code and no personal data (its ``subject`` is a keyed hash, and is
  not read here). A line that counts many refusals (:mod:`center.refusal_tally`) counts as its
  ``occurrences``. Left out: operators' own actions (a line with an ``actor``), the console's
  sign-ins (``console_*``), and voids (``order_voided``: why an order ended, not a refusal).
  A refusal belongs to a municipality when its session's resident does (the municipality the
  authority named for the card); a refusal before that (a terminal's request, a card refused)
  belongs to none, and only the center's people see it.

The hour and the day are Japan's (UTC+9, no summer time): a copy printed at 23:30 UTC on 7
December counts at 08:00 on 8 December.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import sqlalchemy as sa

from center.store.tables import audit_log, order_copies, orders, sessions
from documents import JST, CertificateType

JST_OFFSET = 9 * 3600  # seconds east of UTC, all year
EXCLUDED_EVENTS = ("order_voided",)


class Grouping(StrEnum):
    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        return 3600 if self is Grouping.HOUR else 86400


MAX_DAYS = {Grouping.HOUR: 7, Grouping.DAY: 92}  # at most 168 hours, or a quarter's days
DEFAULT_DAYS = {Grouping.HOUR: 1, Grouping.DAY: 7}  # today, or the last 7 days


class BadPeriod(ValueError):
    """A period that cannot be charted: its ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Period:
    """The days ``first`` to ``last`` (inclusive) in Japan, in buckets of an hour or a day."""

    first: dt.date
    last: dt.date
    by: Grouping

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise BadPeriod("bad_range", "the first day is after the last")
        if (self.last - self.first).days + 1 > MAX_DAYS[self.by]:
            raise BadPeriod("range_too_long", f"at most {MAX_DAYS[self.by]} days by {self.by.value}")

    @classmethod
    def ending(cls, last: dt.date, by: Grouping) -> Period:
        """The default period of a grouping that ends on ``last``: that day by hour, a week by day."""
        return cls(last - dt.timedelta(days=DEFAULT_DAYS[by] - 1), last, by)

    @classmethod
    def starting(cls, first: dt.date, by: Grouping) -> Period:
        return cls(first, first + dt.timedelta(days=DEFAULT_DAYS[by] - 1), by)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), JST)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), JST)

    def buckets(self) -> list[dt.datetime]:
        """The start of every hour or day of the period, in Japan's time."""
        step = dt.timedelta(seconds=self.by.seconds)
        found, moment = [], self.start
        while moment < self.end:
            found.append(moment)
            moment += step
        return found

    def bucket_of(self, number: int) -> dt.datetime:
        """The start of the bucket a query numbered ``number`` (from the Unix epoch, in Japan)."""
        return dt.datetime.fromtimestamp(number * self.by.seconds - JST_OFFSET, dt.UTC).astimezone(JST)


@dataclass(frozen=True)
class CopyCount:
    bucket: dt.datetime  # the hour's or day's start, in Japan
    municipality: str
    certificate_type: str
    copies: int


@dataclass(frozen=True)
class RefusalCount:
    event: str  # the audit line's kind: what was refused
    code: str  # why
    refusals: int


@dataclass(frozen=True)
class Volumes:
    period: Period
    municipality: str | None  # None: every municipality
    copies: tuple[CopyCount, ...] = ()
    refusals: tuple[RefusalCount, ...] = ()
    types: tuple[str, ...] = field(default=tuple(kind.value for kind in CertificateType))

    @property
    def total_copies(self) -> int:
        return sum(count.copies for count in self.copies)

    @property
    def total_refusals(self) -> int:
        return sum(count.refusals for count in self.refusals)

    def over_time(self) -> dict[str, list[int]]:
        """Copies per bucket of the period, one series per certificate type that has any (in the
        types' order), every bucket present (zero when nothing was printed)."""
        index = {bucket: number for number, bucket in enumerate(self.period.buckets())}
        series: dict[str, list[int]] = {}
        for count in self.copies:
            series.setdefault(count.certificate_type, [0] * len(index))[index[count.bucket]] += count.copies
        return {kind: series[kind] for kind in self._ordered(series)}

    def by_municipality(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for count in self.copies:
            totals[count.municipality] = totals.get(count.municipality, 0) + count.copies
        return sorted(totals.items())

    def by_type(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for count in self.copies:
            totals[count.certificate_type] = totals.get(count.certificate_type, 0) + count.copies
        return [(kind, totals[kind]) for kind in self._ordered(totals)]

    def _ordered(self, kinds: dict[str, int] | dict[str, list[int]]) -> Iterator[str]:
        yield from (kind for kind in self.types if kind in kinds)
        yield from sorted(kind for kind in kinds if kind not in self.types)  # e.g. "unknown"


def volumes(connection: sa.Connection, period: Period, municipality: str | None = None) -> Volumes:
    """The volumes of ``period``, of every municipality or of ``municipality`` only."""
    return Volumes(
        period,
        municipality,
        tuple(_copies(connection, period, municipality)),
        tuple(_refusals(connection, period, municipality)),
    )


def _copies(connection: sa.Connection, period: Period, municipality: str | None) -> list[CopyCount]:
    printed = order_copies.c.printed_at
    bucket = _bucket(printed, period.by, connection.dialect.name).label("bucket")
    query = (
        sa.select(bucket, orders.c.municipality, order_copies.c.certificate_type, sa.func.count())
        .select_from(order_copies.join(orders, orders.c.id == order_copies.c.order_id))
        .where(printed >= _utc(period.start), printed < _utc(period.end))
        .group_by(bucket, orders.c.municipality, order_copies.c.certificate_type)
    )
    if municipality is not None:
        query = query.where(orders.c.municipality == municipality)
    return sorted(
        (
            CopyCount(period.bucket_of(int(number)), code, kind, int(copies))
            for number, code, kind, copies in connection.execute(query)
        ),
        key=lambda count: (count.bucket, count.municipality, count.certificate_type),
    )


def _refusals(connection: sa.Connection, period: Period, municipality: str | None) -> list[RefusalCount]:
    line = audit_log.c
    counted = sa.func.sum(sa.func.coalesce(line.occurrences, 1))
    query = (
        sa.select(line.event, line.reason, counted)
        .where(
            line.outcome == "refused",
            line.actor.is_(None),
            ~line.event.startswith("console_", autoescape=True),
            line.event.not_in(EXCLUDED_EVENTS),
            line.at >= _utc(period.start),
            line.at < _utc(period.end),
        )
        .group_by(line.event, line.reason)
    )
    if municipality is not None:
        query = query.join(sessions, sessions.c.id == line.session_id).where(
            sessions.c.municipality == municipality
        )
    counts = [
        RefusalCount(event, reason or "", int(number)) for event, reason, number in connection.execute(query)
    ]
    return sorted(counts, key=lambda count: (-count.refusals, count.code, count.event))


def _bucket(column: sa.ColumnElement[dt.datetime], by: Grouping, dialect: str) -> sa.ColumnElement[int]:
    """The number of the hour or day (of Japan) a time falls in, counted from the Unix epoch."""
    if dialect == "postgresql":
        seconds: sa.ColumnElement[int] = sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    else:  # SQLite keeps UTC text; strftime('%s') is whole seconds since the epoch
        seconds = sa.cast(sa.func.strftime("%s", column), sa.Integer)
    return (seconds + JST_OFFSET) // by.seconds


def _utc(moment: dt.datetime) -> dt.datetime:
    """A bound time in UTC: SQLite compares the text of UTC times, whatever the zone given."""
    return moment.astimezone(dt.UTC)
