"""The console's accounts (アカウント): who may sign in, their role and passkeys. Operators add
an account, issue a new enrolment link (shown once), disable an account and revoke one of its
passkeys (each passkey listed by its label, the revocation confirmed with a checkbox; the last
passkey of an account too, the page saying the account then needs a new enrolment link);
auditors read. Each change is audited with who made it. There is no self-service: municipal
staff and auditors ask an operator (or the command line) to revoke a passkey of theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from center.console.accounts import LABEL, EnrolmentLink
from center.console.context import admitted, console_of, show
from center.console.errors import AccountRefused, BadInput
from center.console.page import Page
from center.console.roles import CENTER, Role, Viewer

PAGE = Page(
    "operators",
    "/operators",
    ("アカウント", "Accounts"),
    CENTER,
    changers=frozenset({Role.OPERATOR}),
    order=50,
)
router = APIRouter()
Admitted = Annotated[Viewer, Depends(admitted(PAGE))]  # the guard's viewer


@router.get("/operators")
async def accounts_page(request: Request, viewer: Admitted) -> Response:
    revoked = request.query_params.get("revoked")
    return await _listing(
        request, viewer, None, revoked=revoked if revoked and LABEL.fullmatch(revoked) else None
    )


@router.post("/operators")
async def add_account(request: Request, viewer: Admitted) -> Response:
    form = await request.form()
    name, role, municipality = (str(form.get(field) or "") for field in ("name", "role", "municipality"))
    link = await console_of(request).accounts.add(name, role, municipality or None, actor=viewer.name)
    return await _listing(request, viewer, link)


@router.post("/operators/{name}/enrolment")
async def new_link(request: Request, name: str, viewer: Admitted) -> Response:
    link = await console_of(request).accounts.new_link(name, actor=viewer.name)
    return await _listing(request, viewer, link)


@router.post("/operators/{name}/disable")
async def disable(request: Request, name: str, viewer: Admitted) -> Response:
    if name == viewer.name:
        raise AccountRefused("own_account", "you cannot disable the account you are signed in with")
    await console_of(request).accounts.disable(name, actor=viewer.name)
    return RedirectResponse("/operators", status_code=303)


@router.post("/operators/{name}/passkeys/{label}/revoke")
async def revoke_passkey(request: Request, name: str, label: str, viewer: Admitted) -> Response:
    form = await request.form()
    accounts = console_of(request).accounts
    await accounts.passkey(name, label)  # 404 before anything else: no such passkey to revoke
    if form.get("confirm") != "yes":
        raise BadInput("confirmation_required", "tick the box to confirm the passkey is to be revoked")
    await accounts.revoke_passkey(name, label, actor=viewer.name)
    return RedirectResponse(f"/operators?revoked={label}", status_code=303)


async def _listing(
    request: Request, viewer: Viewer, link: EnrolmentLink | None, *, revoked: str | None = None
) -> Response:
    accounts = await console_of(request).accounts.listing()
    context = {"accounts": accounts, "link": link, "roles": list(Role), "revoked": revoked}
    return show(request, PAGE, viewer, context=context)
