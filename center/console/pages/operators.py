"""The console's accounts (アカウント): who may sign in, their role and passkeys. Operators add
an account, issue a new enrolment link (shown once) and disable an account; auditors read. Each
change is audited with who made it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from center.console.accounts import EnrolmentLink
from center.console.context import admitted, console_of, show
from center.console.errors import AccountRefused
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
    return await _listing(request, viewer, None)


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


async def _listing(request: Request, viewer: Viewer, link: EnrolmentLink | None) -> Response:
    accounts = await console_of(request).accounts.listing()
    return show(request, PAGE, viewer, context={"accounts": accounts, "link": link, "roles": list(Role)})
