"""Incidents — stop issuance now (交付停止): the stops in force and their history; a form that
stops everything, a municipality, a certificate type or a terminal, with the reason residents are
shown in Japanese and in English; a confirmation that says what the stop will refuse before it is
set; and lifting a stop (再開).

The rules, the checks of every typed value and what each stop refuses are
:mod:`center.incidents`'; the writes are :mod:`center.incidents_store`'s (each one transaction
with its audit line). A stop set here holds from the next request in every center process.

- **Operators** set and lift any stop.
- **Municipal staff** set and lift only stops of their own municipality, and see only the stops
  that concern it (of everything, or of it). A form edited to stop something else is refused: a
  wider scope with 403 (their role may not), another municipality, or a stop of another they
  cannot see, with 404 (as if there were nothing there).
- **Auditors** read; the guard refuses them every change.

The stop's ``stopped_by`` and ``lifted_by``, and the actor of its audit line, are the console
account's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from center.console.context import Console, admitted, console_of, show
from center.console.errors import ConsoleError, NotAllowed
from center.console.page import Page
from center.console.roles import EVERYONE, Role, Viewer
from center.errors import BadRequest, Conflict, NotFound
from center.incidents import (
    MAX_REASON,
    IssuanceStop,
    Scope,
    StopReason,
    connected_municipality,
    plain_text,
    stop_target,
)
from center.incidents_store import lift_stop, lifted, set_stop, stop_of, stops
from center.store.tables import terminals
from documents import CertificateType

PAGE = Page(
    "incidents",
    "/incidents",
    ("交付停止", "Incidents"),
    EVERYONE,
    changers=frozenset({Role.OPERATOR, Role.MUNICIPAL}),
    order=10,
)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer
HISTORY = 100  # lifted stops shown, the newest
FIELDS = ("scope", "municipality", "certificate_type", "terminal", "reason_ja", "reason_en")
TYPED_MOST = 400  # characters of a field kept to show it again (the checks refuse more than 160)
TARGET_FIELD = {
    Scope.MUNICIPALITY: "municipality",
    Scope.CERTIFICATE_TYPE: "certificate_type",
    Scope.TERMINAL: "terminal",
}
SCOPE_WORDS = {
    Scope.ALL: ("すべての交付 (全端末・全市区町村)", "Everything (every terminal, every municipality)"),
    Scope.MUNICIPALITY: ("市区町村", "A municipality"),
    Scope.CERTIFICATE_TYPE: ("証明書の種類", "A certificate type"),
    Scope.TERMINAL: ("端末", "A terminal"),
}
CERTIFICATE_WORDS = {
    CertificateType.RESIDENT_RECORD: ("住民票の写し", "Certificate of residence"),
    CertificateType.RESIDENT_RECORD_ENTRIES: (
        "住民票記載事項証明書",
        "Certificate of resident record entries",
    ),
    CertificateType.SEAL_REGISTRATION: ("印鑑登録証明書", "Seal registration certificate"),
    CertificateType.TAX: ("各種税証明書", "Tax certificate"),
    CertificateType.FAMILY_REGISTER: ("戸籍証明書", "Family register certificate"),
    CertificateType.FAMILY_REGISTER_ATTACHMENT: ("戸籍の附票の写し", "Family register attachment"),
}
# what is wrong with a field, said next to it
PROBLEM_WORDS = {
    "scope_required": ("停止する範囲を選んでください。", "Choose what to stop."),
    "municipality_required": ("市区町村コードを入力してください。", "Type the municipality's code."),
    "bad_municipality": (
        "6桁の全国地方公共団体コード (検査数字を含む) を入力してください。",
        "A municipality code is six digits, its check digit last.",
    ),
    "municipality_not_connected": (
        "このセンターに接続されていない市区町村です。",
        "This municipality is not connected to this center.",
    ),
    "certificate_type_required": ("証明書の種類を選んでください。", "Choose a certificate type."),
    "bad_certificate_type": ("その証明書の種類はありません。", "There is no such certificate type."),
    "terminal_required": ("端末IDを入力してください。", "Type the terminal's id."),
    "bad_terminal_id": (
        "端末IDは英大文字・数字・「-」の32文字以内です。",
        "A terminal id is up to 32 of A-Z, 0-9 and '-'.",
    ),
    "unknown_terminal": ("その端末は登録されていません。", "No terminal with this id is enrolled."),
    "reason_required": ("理由を入力してください。", "Type the reason."),
    "reason_too_long": (
        f"理由は{MAX_REASON}文字以内で入力してください。",
        f"The reason is at most {MAX_REASON} characters.",
    ),
    "reason_not_plain": (
        "理由は1行の文章で入力してください (改行・制御文字・「<」「>」は使えません)。",
        "The reason is one line of plain text (no line breaks, control characters, < or >).",
    ),
}
Typed = dict[str, str]  # the form's fields as typed (to show them again)
Problems = dict[str, str]  # field → what is wrong with it (a key of PROBLEM_WORDS)


@dataclass(frozen=True)
class Proposal:
    """A stop checked and ready to set: what the confirmation shows."""

    scope: Scope
    target: str | None
    reason: StopReason
    terminals: int  # active terminals it reaches: all of them, or the one
    store: str | None = None  # a terminal's store
    same: tuple[int, ...] = ()  # stops of the same scope and target in force already


@router.get("/incidents")
async def incidents_page(request: Request, viewer: Admitted) -> Response:
    return await _page(request, viewer, typed=_blank(viewer), notice=_notice(request.query_params))


@router.post("/incidents/review")
async def review(request: Request, viewer: Admitted) -> Response:
    """The confirmation of a stop typed in the form (nothing is set yet), or the form again with
    what is wrong next to each field."""
    typed = await _typed(request, viewer)
    proposal, problems = await _checked(console_of(request), typed)
    if proposal is None:
        return await _page(request, viewer, typed=typed, problems=problems, status=400)
    return await _page(request, viewer, typed=typed, proposal=proposal)


@router.post("/incidents/edit")
async def edit(request: Request, viewer: Admitted) -> Response:
    """Back from the confirmation to the form, as it was typed."""
    return await _page(request, viewer, typed=await _typed(request, viewer))


@router.post("/incidents/stops")
async def set_it(request: Request, viewer: Admitted) -> Response:
    """Set the stop confirmed (checked again: the form may have been edited since)."""
    console = console_of(request)
    typed = await _typed(request, viewer)
    proposal, problems = await _checked(console, typed)
    if proposal is not None:
        try:
            stop = await set_stop(
                console.database,
                console.chain_key,
                proposal.scope,
                proposal.target,
                proposal.reason,
                viewer.name,
                console.clock(),
            )
        except NotFound as refused:  # the terminal's enrolment is gone since the confirmation
            problems = {"terminal": refused.code}
        else:
            return RedirectResponse(f"/incidents?set={stop.stop_id}", status_code=303)
    return await _page(request, viewer, typed=typed, problems=problems, status=400)


@router.post("/incidents/stops/{stop_id}/lift")
async def lift(request: Request, stop_id: str, viewer: Admitted) -> Response:
    console = console_of(request)
    number = _stop_number(stop_id)
    async with console.database.connection() as connection:
        stop = None if number is None else await stop_of(connection, number)
    if stop is None or not _concerns(viewer, stop):
        raise ConsoleError("not_found", "there is no such stop", status=404)
    if not _may_lift(viewer, stop):
        raise NotAllowed("not_allowed", "municipal staff lift only their own municipality's stops")
    try:
        await lift_stop(console.database, console.chain_key, stop.stop_id, viewer.name, console.clock())
    except Conflict as refused:  # lifted meanwhile, by someone else
        async with console.database.connection() as connection:
            before = await stop_of(connection, stop.stop_id)
        return await _page(
            request,
            viewer,
            typed=_blank(viewer),
            refused={"code": refused.code, "stop": before},
            status=refused.status,
        )
    return RedirectResponse(f"/incidents?lifted={stop.stop_id}", status_code=303)


# -- who sees and changes what ---------------------------------------------------------------------


def _concerns(viewer: Viewer, stop: IssuanceStop) -> bool:
    """Whether ``viewer`` sees ``stop``: the center's people every stop, municipal staff the stops
    of everything and of their municipality."""
    municipality = viewer.scope.municipality
    return (
        municipality is None
        or stop.scope is Scope.ALL
        or (stop.scope is Scope.MUNICIPALITY and stop.target == municipality)
    )


def _may_lift(viewer: Viewer, stop: IssuanceStop) -> bool:
    """Operators lift any stop; municipal staff their municipality's only."""
    if viewer.role is Role.OPERATOR:
        return True
    own = stop.scope is Scope.MUNICIPALITY and stop.target == viewer.municipality
    return viewer.role is Role.MUNICIPAL and own


# -- the form ----------------------------------------------------------------------------------------


def _blank(viewer: Viewer) -> Typed:
    typed = dict.fromkeys(FIELDS, "")
    if viewer.role is Role.MUNICIPAL:
        typed.update(scope=Scope.MUNICIPALITY.value, municipality=viewer.municipality or "")
    return typed


async def _typed(request: Request, viewer: Viewer) -> Typed:
    """The form's fields as typed. Municipal staff's form stops their municipality and nothing
    else: edited to stop more is refused (403), to stop another municipality answered 404."""
    form = await request.form()
    typed = {}
    for name in FIELDS:
        value = form.get(name)
        typed[name] = value[:TYPED_MOST] if isinstance(value, str) else ""
    if viewer.role is Role.MUNICIPAL:
        if typed["scope"] != Scope.MUNICIPALITY.value:
            raise NotAllowed("not_allowed", "municipal staff stop their own municipality only")
        typed["municipality"] = viewer.scope.narrowed(typed["municipality"].strip()) or ""
    return typed


async def _checked(console: Console, typed: Typed) -> tuple[Proposal | None, Problems]:
    """The stop the form asks for, checked by :mod:`center.incidents`' own rules, or what is
    wrong with each field."""
    problems: Problems = {}
    try:
        scope: Scope | None = Scope(typed["scope"])
    except ValueError:
        scope, problems["scope"] = None, "scope_required"
    target = None
    if scope is not None and scope is not Scope.ALL:
        field = TARGET_FIELD[scope]
        target = _target(console, scope, typed[field].strip(), field, problems)
    reasons = {language: _reason(typed, language, problems) for language in ("ja", "en")}
    if scope is None or problems:
        return None, problems
    counted, store = await _reached(console, scope, target)
    if scope is Scope.TERMINAL and store is None:
        return None, {"terminal": "unknown_terminal"}
    async with console.database.connection() as connection:
        in_force = await stops(connection)
    same = tuple(stop.stop_id for stop in in_force if (stop.scope, stop.target) == (scope, target))
    reason = StopReason(reasons["ja"] or "", reasons["en"] or "")
    return Proposal(scope, target, reason, counted, store, same), problems


def _target(console: Console, scope: Scope, value: str, field: str, problems: Problems) -> str | None:
    if not value:
        problems[field] = f"{field}_required"
        return None
    try:
        target = stop_target(scope, value)
    except BadRequest:
        problems[field] = "bad_terminal_id" if scope is Scope.TERMINAL else f"bad_{field}"
        return None
    if scope is Scope.MUNICIPALITY and target is not None:
        try:
            connected_municipality(target, console.municipalities)
        except BadRequest:
            problems[field] = "municipality_not_connected"
            return None
    return target


def _reason(typed: Typed, language: str, problems: Problems) -> str | None:
    field = f"reason_{language}"
    text = typed[field].strip()
    if not text:
        problems[field] = "reason_required"
        return None
    if len(text) > MAX_REASON:
        problems[field] = "reason_too_long"
        return None
    try:
        return plain_text(text, field, MAX_REASON)
    except BadRequest:
        problems[field] = "reason_not_plain"
        return None


async def _reached(console: Console, scope: Scope, target: str | None) -> tuple[int, str | None]:
    """How many active terminals the stop reaches (all, or the one) and a terminal's store (``None``
    if the terminal is not enrolled)."""

    def read(connection: sa.Connection) -> tuple[int, str | None]:
        if scope is Scope.TERMINAL:
            row = connection.execute(
                sa.select(terminals.c.store, terminals.c.status).where(terminals.c.id == target)
            ).first()
            if row is None:
                return 0, None
            return int(row.status == "active"), str(row.store)
        active = sa.select(sa.func.count()).select_from(terminals).where(terminals.c.status == "active")
        return int(connection.execute(active).scalar_one()), None

    return await console.read(read)


# -- the page ----------------------------------------------------------------------------------------


def _stop_number(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _notice(query: Mapping[str, str]) -> dict[str, object] | None:
    for done in ("set", "lifted"):
        number = _stop_number(query.get(done))
        if number is not None:
            return {"done": done, "stop_id": number}
    return None


async def _page(
    request: Request,
    viewer: Viewer,
    *,
    typed: Typed,
    problems: Problems | None = None,
    proposal: Proposal | None = None,
    notice: dict[str, object] | None = None,
    refused: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    console = console_of(request)
    async with console.database.connection() as connection:
        in_force = [stop for stop in await stops(connection) if _concerns(viewer, stop)]
        history = await lifted(connection, most=HISTORY, municipality=viewer.scope.municipality)
    if notice is not None:  # said only of a stop the viewer sees
        shown = {stop.stop_id: stop for stop in [*in_force, *history]}
        stop = shown.get(int(str(notice["stop_id"])))
        notice = None if stop is None else {**notice, "stop": stop}
    return show(
        request,
        PAGE,
        viewer,
        status=status,
        context={
            "in_force": in_force,
            "history": history,
            "liftable": {stop.stop_id for stop in in_force if _may_lift(viewer, stop)},
            "typed": typed,
            "problems": problems or {},
            "proposal": proposal,
            "notice": notice,
            "refused": refused,
            "scopes": list(Scope),
            "scope_words": SCOPE_WORDS,
            "certificate_words": CERTIFICATE_WORDS,
            "problem_words": PROBLEM_WORDS,
            "max_reason": MAX_REASON,
            "history_most": HISTORY,
        },
    )
