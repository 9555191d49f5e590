"""Volumes (交付通数): copies issued per hour or per day, per municipality and per certificate type,
and the refusals by code, over a period of days in Japan (today by hour, or the last 7 days by
day, unless chosen), as charts drawn on the server (:mod:`center.console.charts`) each with its
table, and as CSV (``/volumes/copies.csv``, ``/volumes/refusals.csv``). What is counted, and why
the refusals come from the audit log, is :mod:`center.volumes`. Municipal staff see their own
municipality only; another in the address is answered 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from center.console import charts
from center.console.context import admitted, asked_day, console_of, show
from center.console.errors import BadInput
from center.console.page import Page
from center.console.rendering import language
from center.console.roles import EVERYONE, Viewer
from center.console.spreadsheet import csv_text, download
from center.volumes import BadPeriod, Grouping, Period, Volumes, volumes
from documents import tokyo_day

PAGE = Page("volumes", "/volumes", ("交付通数", "Volumes"), EVERYONE, order=25)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer
TYPE_WORDS = {
    "resident_record": ("住民票の写し", "Resident record"),
    "resident_record_entries": ("住民票記載事項証明書", "Resident record entries"),
    "seal_registration": ("印鑑登録証明書", "Seal registration"),
    "tax": ("各種税証明書", "Tax certificate"),
    "family_register": ("戸籍証明書", "Family register"),
    "family_register_attachment": ("戸籍の附票の写し", "Family register attachment"),
}
DAILY_LABELS = 16  # days by day labelled one by one; beyond, one a week
Say = Callable[[str, str], str]


@router.get("/volumes")
async def volumes_page(request: Request, viewer: Admitted) -> Response:
    found = await _volumes(request, viewer)
    lang = language(request)

    def say(ja: str, en: str) -> str:
        return ja if lang == "ja" else en

    return show(request, PAGE, viewer, context=_shown(found, say))


@router.get("/volumes/copies.csv")
async def copies_csv(request: Request, viewer: Admitted) -> Response:
    found = await _volumes(request, viewer)
    rows = (
        (count.bucket.isoformat(), count.municipality, count.certificate_type, count.copies)
        for count in found.copies
    )
    return download(
        csv_text(["from", "municipality", "certificate_type", "copies"], rows), _name("copies", found)
    )


@router.get("/volumes/refusals.csv")
async def refusals_csv(request: Request, viewer: Admitted) -> Response:
    found = await _volumes(request, viewer)
    first, last = found.period.first.isoformat(), found.period.last.isoformat()
    rows = ((first, last, count.event, count.code, count.refusals) for count in found.refusals)
    return download(
        csv_text(["first_day", "last_day", "event", "code", "refusals"], rows), _name("refusals", found)
    )


async def _volumes(request: Request, viewer: Viewer) -> Volumes:
    console = console_of(request)
    asked = request.query_params
    municipality = viewer.scope.narrowed(asked.get("municipality"))
    period = period_of(asked, tokyo_day(console.clock()))
    return await console.read(lambda connection: volumes(connection, period, municipality))


def period_of(asked: Mapping[str, str], today: dt.date) -> Period:
    """The period the page's parameters ask for (``by``: hour or day; ``from``, ``to``: days,
    either may be left out), refused with its code if it cannot be charted."""
    try:
        by = Grouping(asked.get("by") or Grouping.HOUR.value)
    except ValueError:
        raise BadInput("bad_grouping", "group by hour or day") from None
    first, last = asked_day(asked.get("from")), asked_day(asked.get("to"))
    try:
        if first is None:
            return Period.ending(last or today, by)
        if last is None:
            return Period.starting(first, by)
        return Period(first, last, by)
    except BadPeriod as refused:
        raise BadInput(refused.code, str(refused)) from None


def _name(what: str, found: Volumes) -> str:
    period = found.period
    where = f"-{found.municipality}" if found.municipality else ""
    return f"{what}-{period.first.isoformat()}-{period.last.isoformat()}-{period.by.value}{where}.csv"


def time_labels(period: Period) -> list[str]:
    """The labels under a time chart's points: every third hour of one day; each day's first hour
    over several; each day, or each seventh day over a long period."""
    labels = []
    for number, moment in enumerate(period.buckets()):
        if period.by is Grouping.HOUR and period.first == period.last:
            labels.append(moment.strftime("%H:00") if moment.hour % 3 == 0 else "")
        elif period.by is Grouping.HOUR:
            labels.append(moment.strftime("%m-%d") if moment.hour == 0 else "")
        else:
            every = 1 if len(period.buckets()) <= DAILY_LABELS else 7
            labels.append(moment.strftime("%m-%d") if number % every == 0 else "")
    return labels


def _shown(found: Volumes, say: Say) -> dict[str, Any]:
    """The page's context: the period, each chart and the table beside it."""
    period = found.period
    span = period.first.isoformat() + ("" if period.first == period.last else f" – {period.last.isoformat()}")
    per = say("1時間", "hour") if period.by is Grouping.HOUR else say("1日", "day")
    buckets = period.buckets()
    fmt = "%m-%d %H:00" if period.by is Grouping.HOUR else "%Y-%m-%d"
    series = found.over_time()
    typed = [(_type_name(kind, say), values) for kind, values in series.items()]
    totals = [sum(values[number] for values in series.values()) for number in range(len(buckets))]
    busiest = max(range(len(buckets)), key=lambda number: totals[number]) if any(totals) else None
    over_time = charts.lines(
        "copies-over-time",
        say(f"{per}ごとの交付通数 ({span})", f"Copies issued per {per}, {span}"),
        say(
            f"証明書の種類ごとの折れ線。合計 {found.total_copies} 通"
            + (
                ""
                if busiest is None
                else f"、最多は {buckets[busiest].strftime(fmt)} の {totals[busiest]} 通"
            )
            + "。同じ数値を下の表に示します。",
            f"One line per certificate type. {found.total_copies} copies in all"
            + (
                ""
                if busiest is None
                else f"; the most, {totals[busiest]}, at {buckets[busiest].strftime(fmt)}"
            )
            + ". The table below gives the same figures.",
        ),
        time_labels(period),
        typed,
        empty=say("この期間の交付はありません", "No copy issued in this period"),
    )
    municipalities = found.by_municipality()
    kinds = [(_type_name(kind, say), copies) for kind, copies in found.by_type()]
    refusals = [(f"{count.code} ({count.event})", count.refusals) for count in found.refusals]
    asked = {"from": period.first.isoformat(), "to": period.last.isoformat(), "by": period.by.value}
    if found.municipality is not None:
        asked["municipality"] = found.municipality
    return {
        "period": period,
        "query": urlencode(asked),
        "span": span,
        "municipality": found.municipality,
        "volumes": found,
        "groupings": list(Grouping),
        "over_time": over_time,
        "over_time_rows": [
            (moment.strftime(fmt), [values[number] for values in series.values()], totals[number])
            for number, moment in enumerate(buckets)
        ],
        "over_time_names": [name for name, _ in typed],
        "by_municipality": charts.bars(
            "copies-by-municipality",
            say(f"市区町村ごとの交付通数 ({span})", f"Copies issued per municipality, {span}"),
            say(
                f"{len(municipalities)} 市区町村、合計 {found.total_copies} 通。同じ数値を隣の表に示します。",
                f"{len(municipalities)} municipalities, {found.total_copies} copies in all. "
                "The table beside gives the same figures.",
            ),
            municipalities,
            empty=say("この期間の交付はありません", "No copy issued in this period"),
        ),
        "municipality_rows": municipalities,
        "by_type": charts.bars(
            "copies-by-type",
            say(f"証明書の種類ごとの交付通数 ({span})", f"Copies issued per certificate type, {span}"),
            say(
                f"合計 {found.total_copies} 通。同じ数値を隣の表に示します。",
                f"{found.total_copies} copies in all. The table beside gives the same figures.",
            ),
            kinds,
            empty=say("この期間の交付はありません", "No copy issued in this period"),
        ),
        "type_rows": kinds,
        "refusals": charts.bars(
            "refusals-by-code",
            say(f"理由コードごとの拒否件数 ({span})", f"Refusals by code, {span}"),
            say(
                f"監査ログによる拒否 合計 {found.total_refusals} 件 (括弧内は拒否された処理)。"
                "同じ数値を隣の表に示します。",
                f"{found.total_refusals} refusals in the audit log (in brackets, what was refused). "
                "The table beside gives the same figures.",
            ),
            refusals,
            empty=say("この期間の拒否はありません", "No refusal in this period"),
        ),
        "refusal_rows": found.refusals,
    }


def _type_name(kind: str, say: Say) -> str:
    words = TYPE_WORDS.get(kind)
    return kind if words is None else say(*words)
