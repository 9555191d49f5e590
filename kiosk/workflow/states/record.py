"""The issuance record (交付履歴の確認): every issuance made with the resident's card in the last 12
months, at their residence and registered domicile municipalities, newest first; printed free of
charge on request (no order, no payment: the printer's plain page), then back to the choice.

The record is asked of the center once a session (each municipality's part sealed to this
terminal, opened by the link), kept in the session's context only and wiped with it.

View:

- issuance_record: ``{"rows": [{"issued_at": "YYYY-MM-DDTHH:MM" (JST), "municipality": {"code",
  "name", "name_en"}, "store", "terminal_id", "certificate_type", "copies", "issue_numbers":
  [...], "voided": [...]}], "unavailable": [{"code", "name", "name_en"}], "printing": bool,
  "printed": bool, "remind": n, "problem": key | None, "busy": key | None}`` — ``print``,
  ``finish``, ``back``, ``cancel``. ``unavailable``: the municipalities that could not answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from PIL import Image

from documents import JST
from kiosk.errors import PrinterError
from kiosk.issuance_record import IssuanceRecordView, IssuanceRow
from kiosk.ports import ReminderKind
from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import BACK, State
from kiosk.workflow.states.domicile import linked, municipality_view
from kiosk.workflow.steps import Outcome, Step
from printing.render.issuance_record import Issuance, MunicipalRecord, render_issuance_record

log = logging.getLogger(__name__)


def jst_minute(value: Any) -> str:
    """A moment (a datetime, or its ISO text) in JST to the minute, ``YYYY-MM-DDTHH:MM``."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def _moment(row: IssuanceRow) -> dt.datetime:
    value = row.issued_at
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def record_rows(record: IssuanceRecordView) -> list[dict[str, Any]]:
    """Every municipality's rows merged, newest first, as the view lists them."""
    return [
        {
            "issued_at": jst_minute(row.issued_at),
            "municipality": {"code": row.municipality, "name": row.name, "name_en": row.name_en},
            "store": row.store,
            "terminal_id": row.terminal_id,
            "certificate_type": row.certificate_type,
            "copies": row.copies,
            "issue_numbers": list(row.issue_numbers),
            "voided": list(row.voided),
        }
        for row in sorted(record.rows, key=_moment, reverse=True)
    ]


def render_page(record: IssuanceRecordView, language: str, names: Sequence[str]) -> list[Image.Image]:
    """The record's plain pages (``printing.render.issuance_record``), as the printer's
    ``print_plain`` takes them: each municipality's rows under its name, in the order the center
    answered (the residence first); ``names``: those that could not answer, in ``language``."""
    records = [
        MunicipalRecord(
            municipality=source.municipality,
            name=source.name,
            name_en=source.name_en,
            since=source.since.astimezone(JST).date(),
            until=source.until.astimezone(JST).date(),
            issuances=tuple(
                Issuance(
                    issued_at=row.issued_at.astimezone(JST),
                    store=row.store,
                    terminal_id=row.terminal_id,
                    certificate_type=row.certificate_type,
                    copies=row.copies,
                    issue_numbers=tuple(row.issue_numbers),
                    voided=frozenset(row.voided),
                )
                for row in record.rows
                if row.municipality == source.municipality
            ),
        )
        for source in record.sources
    ]
    return render_issuance_record(
        records, language=language, printed_at=dt.datetime.now(JST), unavailable=names
    )


class IssuanceRecord(State):
    step = Step.ISSUANCE_RECORD
    timeout = 120

    async def run(self, context: SessionContext) -> Outcome:
        link = linked(context)
        if context.issuance_record is None:
            context.issuance_record = await self.center(link.issuance_record)
        record = context.issuance_record
        unavailable = list(record.unavailable)
        if unavailable and context.municipalities is None:
            try:  # their names; without them, their codes
                context.municipalities = await self.center(link.participating_municipalities)
            except Exception as error:
                log.warning("the municipalities' names not read: %s", type(error).__name__)
        self.show(
            rows=record_rows(record),
            unavailable=[municipality_view(code, context.municipalities) for code in unavailable],
            printing=False,
            printed=False,
            remind=0,
            problem=None,
            busy=None,
        )
        while True:
            touch = await self.touch("print", "finish")
            if touch.action == BACK:
                return Outcome.BACK
            if touch.action == "finish":
                return Outcome.FINISH
            if touch.action != "print":
                return Outcome.CANCEL
            if await self._print(context, record):
                return Outcome.NEXT

    async def _print(self, context: SessionContext, record: IssuanceRecordView) -> bool:
        """The record on paper, free (the printer's plain page); then until it is taken, reminding.
        ``False``: the printer failed (said; the resident may try again or go on)."""
        terminal = self.terminal
        self.show(printing=True, problem=None, busy="progress.printing")
        unavailable = [municipality_view(code, context.municipalities) for code in record.unavailable]
        names = [str(m["name" if context.language == "ja" else "name_en"]) for m in unavailable if m]
        try:
            pages = await asyncio.to_thread(render_page, record, context.language, names)
            await terminal.printer.print_plain(pages)
        except PrinterError as error:
            log.warning("the issuance record was not printed: %s", error)
            self.show(printing=False, problem="issuance_record.print_failed", busy=None)
            return False
        finally:
            self.show(busy=None)
        self.show(printing=False, printed=True)
        taken = asyncio.ensure_future(terminal.printer.wait_until_taken())
        reminded = 0
        try:
            while True:
                terminal.reminder.start(ReminderKind.TAKE_DOCUMENTS)
                reminded += 1
                self.show(remind=reminded)
                done, _pending = await asyncio.wait({taken}, timeout=terminal.remind_every)
                if done:
                    taken.result()
                    return True
        finally:
            taken.cancel()
            terminal.reminder.stop()
