"""The service calendar (サービスカレンダー), seen and changed: the national hours and year-end
closure, maintenance windows, municipal stops, per-type hours and suspensions, and what a terminal
is answered at a chosen moment (:mod:`center.api.calendar_preview`).

A change is one entry at a time, in three steps: the form (``GET /calendar/<part>/<n|new>``), its
review (``POST`` with ``step=review``: the data format's errors next to the fields, or the change
described and previewed before and after), and the save (``step=save``). Every form carries the
version of the calendar it was made from; a save from another version than the one stored is
refused (409, ``calendar_changed``), so two people editing at once never overwrite each other
unseen. The save is the command line's (the same row, read again by every center process within
seconds) with its audit line: ``calendar_change``, the part changed, who, and what in a line.

Operators change every part. Municipal staff change their own municipality's stops and per-type
hours (the format keeps both per municipality) and see the national parts read-only; another
municipality's entry is answered 404, the national parts 403. Auditors read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from center.api.calendar_preview import preview
from center.audit import AuditEntry
from center.calendar import ServiceCalendar
from center.calendar_edits import CalendarEdit, EntryUnknown, Section
from center.calendar_format import CalendarDataError
from center.calendar_store import AUDIT_EVENT, CalendarChanged, StoredCalendar, read_stored, replace_calendar
from center.console import calendar_forms as forms
from center.console.context import admitted, console_of, show
from center.console.errors import BadInput, NotAllowed, OutOfScope
from center.console.page import Page
from center.console.roles import EVERYONE, Role, Viewer
from center.store.tables import audit_log
from documents import JST, CertificateType

PAGE = Page(
    "calendar",
    "/calendar",
    ("サービスカレンダー", "Service calendar"),
    EVERYONE,
    changers=frozenset({Role.OPERATOR, Role.MUNICIPAL}),
    order=40,
)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer

PARTS = {  # the address of each part of the calendar
    "hours": Section.HOURS,
    "maintenance": Section.MAINTENANCE,
    "stops": Section.MUNICIPALITY_STOPS,
    "type-hours": Section.CERTIFICATE_HOURS,
    "suspensions": Section.SUSPENSIONS,
}
SLUGS = {section: slug for slug, section in PARTS.items()}
MUNICIPAL_PARTS = frozenset({Section.MUNICIPALITY_STOPS, Section.CERTIFICATE_HOURS})
EDIT = "calendar_edit.html"


class _Placed(Protocol):
    @property
    def municipality(self) -> str | None: ...


T = TypeVar("T", bound=_Placed)


# -- reading ---------------------------------------------------------------------------------


@router.get("/calendar")
async def calendar_page(request: Request, viewer: Admitted) -> Response:
    console = console_of(request)
    asked = request.query_params
    municipality = viewer.scope.narrowed(asked.get("municipality"))
    stored = await console.read(read_stored)
    calendar, now = stored.calendar, console.clock()
    moment = _moment(asked.get("at")) if asked.get("at") else now
    kind = _kind(asked.get("type"))

    def concerns(code: str | None) -> bool:
        return viewer.scope.admits(code) and (municipality is None or code in (None, municipality))

    return show(
        request,
        PAGE,
        viewer,
        context={
            "municipality": municipality,
            "now": now,
            "decision": calendar.check(now, municipality),
            "stored": stored,
            "calendar": calendar,
            "data": calendar.to_dict(),
            "stops": _listed(calendar.municipality_stops, concerns),
            "hours": _listed(calendar.certificate_hours, concerns),
            "suspensions": _listed(calendar.suspensions, concerns),
            "editable": {section: _may_edit(viewer, section) for section in Section},
            "slugs": SLUGS,
            "saved": asked.get("saved") in PARTS,
            "asked": {"at": asked.get("at", ""), "type": kind},
            "answers": preview(calendar, moment, municipality, kind if municipality else None),
            "moment": moment,
            "types": forms.TYPE_WORDS,
        },
    )


def _listed(entries: Sequence[T], concerns: Callable[[str | None], bool]) -> list[tuple[int, T]]:
    """The entries the viewer sees, each with its place in the calendar (its address)."""
    return [(index, entry) for index, entry in enumerate(entries) if concerns(entry.municipality)]


def _moment(text: str | None, field: str = "at") -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(forms.parse_moment(text or ""))
    except ValueError:
        raise BadInput("bad_moment", f"{field}: a moment is YYYY-MM-DD HH:MM in Japan") from None


def _kind(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return CertificateType(text).value
    except ValueError:
        raise BadInput("bad_certificate_type", "no such certificate type") from None


# -- changing --------------------------------------------------------------------------------


@router.get("/calendar/hours")
async def hours_form(request: Request, viewer: Admitted) -> Response:
    return await _form(request, viewer, Section.HOURS, None)


@router.post("/calendar/hours")
async def hours_change(request: Request, viewer: Admitted) -> Response:
    return await _change(request, viewer, Section.HOURS, None, removing=False)


@router.get("/calendar/{part}/{entry}")
async def entry_form(request: Request, part: str, entry: str, viewer: Admitted) -> Response:
    section, index = _entry(part, entry)
    return await _form(request, viewer, section, index)


@router.post("/calendar/{part}/{entry}")
async def entry_change(request: Request, part: str, entry: str, viewer: Admitted) -> Response:
    section, index = _entry(part, entry)
    return await _change(request, viewer, section, index, removing=False)


@router.post("/calendar/{part}/{entry}/remove")
async def entry_removal(request: Request, part: str, entry: str, viewer: Admitted) -> Response:
    section, index = _entry(part, entry)
    if index is None:
        raise OutOfScope("not_found", "nothing here")
    return await _change(request, viewer, section, index, removing=True)


def _entry(part: str, entry: str) -> tuple[Section, int | None]:
    section = PARTS.get(part)
    if section is None or not section.listed or not (entry == "new" or (entry.isdigit() and len(entry) < 6)):
        raise OutOfScope("not_found", "nothing here")
    return section, None if entry == "new" else int(entry)


def _may_edit(viewer: Viewer, section: Section) -> bool:
    if viewer.role is Role.OPERATOR:
        return True
    return viewer.role is Role.MUNICIPAL and section in MUNICIPAL_PARTS


def _editor(viewer: Viewer, section: Section) -> None:
    if not _may_edit(viewer, section):
        raise NotAllowed("not_allowed", "your role may not change this part of the calendar")


def _existing(viewer: Viewer, stored: StoredCalendar, section: Section, index: int | None) -> dict[str, Any]:
    """The entry's data (the national hours: the calendar's), if it is there and in scope."""
    data = stored.calendar.to_dict()
    if not section.listed:
        return data
    if index is None:
        return {}
    entries = data[section.value]
    if index >= len(entries):
        raise OutOfScope("not_found", "nothing here")
    entry: dict[str, Any] = entries[index]
    viewer.scope.may_change([entry.get("municipality")])
    return entry


async def _form(request: Request, viewer: Viewer, section: Section, index: int | None) -> Response:
    _editor(viewer, section)
    stored = await console_of(request).read(read_stored)
    existing = _existing(viewer, stored, section, index)
    values = forms.values_from(section, existing) if existing else forms.blank(section)
    if viewer.scope.municipality and not values.get("municipality"):
        values["municipality"] = viewer.scope.municipality
    return _edit_page(request, viewer, section, index, values, {}, stored.version, stored)


async def _change(
    request: Request, viewer: Viewer, section: Section, index: int | None, *, removing: bool
) -> Response:
    _editor(viewer, section)
    console = console_of(request)
    form = await request.form()
    step, version = str(form.get("step") or "review"), str(form.get("version") or "")
    if step not in ("review", "save", "edit"):
        raise BadInput("bad_step", "the step is review, save or edit")
    stored = await console.read(read_stored)
    values = {} if removing else forms.values_of(section, form)
    own = viewer.scope.municipality
    if own and "municipality" in values:
        values["municipality"] = values["municipality"] or own
        viewer.scope.may_change([values["municipality"]])
    if version != stored.version and step != "edit":  # first: an entry's number is the version's
        attempted = _attempted(section, index, removing, version)
        if step == "save":
            await console.writer.record(
                AuditEntry(AUDIT_EVENT, "refused", CalendarChanged.code, actor=viewer.name, detail=attempted),
                console.clock(),
            )
        return await _stale(request, viewer, section, attempted, stored, values)
    existing = _existing(viewer, stored, section, index)
    if removing:
        values = forms.values_from(section, existing)
    if step == "edit":
        return _edit_page(request, viewer, section, index, values, {}, version, stored)
    made = forms.Made(None, {}) if removing else forms.item_of(section, values)
    if made.errors:
        return _edit_page(request, viewer, section, index, values, made.errors, version, stored, status=400)
    edit = CalendarEdit(section, index, made.item)
    try:
        changed = edit.apply(stored.calendar)
    except EntryUnknown:
        raise OutOfScope("not_found", "nothing here") from None
    except CalendarDataError as refused:
        field = forms.field_of(section, refused.where, edit.place(stored.calendar), made.rows)
        words = (
            "カレンダーの規則に合いません: " + refused.problem,
            "The calendar's rules refuse this: " + refused.problem,
        )
        return _edit_page(
            request, viewer, section, index, values, {field: words}, version, stored, status=400
        )
    viewer.scope.may_change(edit.municipalities(stored.calendar, changed))
    detail = edit.describe(stored.calendar, changed)
    if step == "save":
        try:
            await replace_calendar(
                console.writer,
                stored,
                changed,
                actor=viewer.name,
                reason=section.value,
                detail=detail,
                now=console.clock(),
            )
        except CalendarChanged:  # saved by someone else between the reading and the save
            return await _stale(request, viewer, section, detail, await console.read(read_stored), values)
        return RedirectResponse(f"/calendar?saved={SLUGS[section]}", status_code=303)
    return _review(request, viewer, section, index, values, form, edit, stored, changed, detail, removing)


def _review(
    request: Request,
    viewer: Viewer,
    section: Section,
    index: int | None,
    values: forms.Values,
    form: Any,
    edit: CalendarEdit,
    stored: StoredCalendar,
    changed: ServiceCalendar,
    detail: str,
    removing: bool,
) -> Response:
    """The change described, and what a terminal is answered before and after it."""
    entry = edit.after(changed) if not removing else edit.before(stored.calendar)
    errors: forms.Errors = {}
    at = str(form.get("preview_at") or "").strip()
    try:
        moment = _moment(at, "preview_at") if at else _default_moment(entry, console_of(request).clock())
    except BadInput:
        errors["preview_at"] = ("「2026-12-20 01:00」の形で入れてください", "Enter it as 2026-12-20 01:00")
        moment = _default_moment(entry, console_of(request).clock())
    municipality = viewer.scope.narrowed(
        str(form.get("preview_municipality") or "").strip() or getattr(entry, "municipality", None)
    )
    kind = _kind(str(form.get("preview_type") or "")) or _default_type(entry)
    asked = kind if municipality else None
    return _shown(
        request,
        viewer,
        200,
        {
            "mode": "review",
            "section": section,
            "slug": SLUGS[section],
            "index": index,
            "removing": removing,
            "fields": forms.FORMS[section],
            "values": values,
            "errors": errors,
            "version": stored.version,
            "detail": detail,
            "moment": moment,
            "preview_at": at or f"{moment.astimezone(JST):%Y-%m-%d %H:%M}",
            "preview_municipality": municipality or "",
            "preview_type": kind or "",
            "before": preview(stored.calendar, moment, municipality, asked),
            "after": preview(changed, moment, municipality, asked),
            "types": forms.TYPE_WORDS,
            "days": forms.DAY_WORDS,
        },
    )


def _default_moment(entry: object, now: dt.datetime) -> dt.datetime:
    """Where a change shows first: the start of its window, else now (to the minute)."""
    window = getattr(entry, "window", None)
    start = window.start if window is not None else getattr(entry, "since", None)
    moment = start if isinstance(start, dt.datetime) else now
    return moment.astimezone(JST).replace(second=0, microsecond=0)


def _default_type(entry: object) -> str | None:
    kinds = getattr(entry, "certificate_types", None)
    if kinds:
        return str(sorted(kinds)[0])
    kind = getattr(entry, "certificate_type", None)
    return None if kind is None else str(kind)


def _edit_page(
    request: Request,
    viewer: Viewer,
    section: Section,
    index: int | None,
    values: forms.Values,
    errors: forms.Errors,
    version: str,
    stored: StoredCalendar,
    *,
    status: int = 200,
) -> Response:
    return _shown(
        request,
        viewer,
        status,
        {
            "mode": "form",
            "section": section,
            "slug": SLUGS[section],
            "index": index,
            "removing": False,
            "fields": forms.FORMS[section],
            "groups": forms.grouped(forms.FORMS[section]),
            "values": values,
            "errors": errors,
            "version": version,
            "stored": stored,
            "types": forms.TYPE_WORDS,
            "days": forms.DAY_WORDS,
            "words_length": forms.WORDS_LENGTH,
        },
    )


def _attempted(section: Section, index: int | None, removing: bool, version: str) -> str:
    """A change made from another version, in a line: what it was to do, and from which version
    (the entry's number is that version's; nothing typed goes into the audit log)."""
    verb = (
        "removed" if removing else "set" if not section.listed else "added" if index is None else "replaced"
    )
    entry = "" if index is None else f"[{index}]"
    made_from = version if re.fullmatch(r"[0-9a-f]{16}", version) else "unknown"
    return f"{section.value}{entry} {verb}, made from version {made_from}"


async def _stale(
    request: Request,
    viewer: Viewer,
    section: Section,
    detail: str,
    stored: StoredCalendar,
    values: forms.Values,
) -> Response:
    """The change was not saved: the calendar is another version than the one it was made from.
    What was typed is shown again, for the person to make the change again."""
    by = None
    if viewer.scope.municipality is None:  # the center's people may see who
        by = await console_of(request).read(_last_change)
    return _shown(
        request,
        viewer,
        409,
        {
            "mode": "stale",
            "section": section,
            "slug": SLUGS[section],
            "index": None,
            "detail": detail,
            "fields": forms.FORMS[section],
            "values": values,
            "types": forms.TYPE_WORDS,
            "days": forms.DAY_WORDS,
            "stored": stored,
            "by": by,
        },
    )


def _shown(request: Request, viewer: Viewer, status: int, context: dict[str, Any]) -> Response:
    """The page's form, review or refusal of a stale change (``templates/calendar_edit.html``)."""
    return console_of(request).render(request, EDIT, viewer, current=PAGE, status=status, **context)


def _last_change(connection: sa.Connection) -> str | None:
    actor: str | None = connection.execute(
        sa.select(audit_log.c.actor)
        .where(audit_log.c.event == AUDIT_EVENT, audit_log.c.outcome == "accepted")
        .order_by(audit_log.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return actor
