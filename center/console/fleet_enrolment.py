"""The Fleet page's forms for enrolling a terminal (端末の登録) and placing an enrolled one
(設置場所の登録): routes of the Fleet page (:func:`add_routes`, given its page), for operators only.
Municipal staff and auditors are refused (403): the guard refuses them the changes, as on the
rest of the page, and these routes refuse them the form and the bundle too.

- **Enrol**: the form takes the terminal's id, its store's name, municipality and chain (both
  optional) and the certificate signing request the kiosk made (``koufu kiosk enrolment-request``:
  its key never leaves the kiosk). The center certifies the request's key with the terminal CA
  of its directory (never made here: a console without it refuses ``no_terminal_ca``), audited
  with the account's name (:func:`center.terminal_enrolment.enrol_requested`, the command line's
  function too). The answer shows the certificate's SHA-256 fingerprint and offers the enrolment
  bundle (:class:`center.enrolment.EnrolmentBundle`, JSON, public material only) that
  ``koufu kiosk install-enrolment`` installs; it can be downloaded again from the terminal's page.
- **Place**: a terminal's store name, municipality and chain set or changed, audited old → new
  (:func:`center.terminal_enrolment.place`): terminals enrolled before those were recorded have
  none, so municipal staff do not see them and the fleet's filters miss them.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from cryptography import x509
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from center.console.context import Console, console_of
from center.console.errors import BadInput, NotAllowed, OutOfScope
from center.console.page import Page
from center.console.roles import Role, Viewer
from center.enrolment import EnrolmentBundle
from center.errors import BadRequest, CenterError, NotFound
from center.store.tables import terminals
from center.terminal_enrolment import Placement, enrol_requested, place
from center.terminals import TerminalCA, check_terminal_id

FIELDS = ("terminal_id", "store", "municipality", "chain", "csr")
BUNDLE_TYPE = "application/json"
#: a refusal's code → what the form says of it
REFUSALS = {
    "bad_terminal_id": (
        "端末IDは A-Z・0-9・「-」の1〜32文字です。",
        "A terminal id is 1-32 of A-Z, 0-9 and '-'.",
    ),
    "bad_store": (
        "店舗名を1行で入力してください (200文字まで)。",
        "Type the store's name on one line (200 characters at most).",
    ),
    "bad_municipality": ("市区町村コードは6桁の数字です。", "A municipality code is six digits."),
    "bad_chain": ("チェーンは a-z・0-9・「-」の1〜32文字です。", "A chain is 1-32 of a-z, 0-9 and '-'."),
    "bad_csr": (
        "証明書署名要求 (CSR) ではありません。端末で作った terminal.csr の内容をそのまま貼り付けてください。",
        "This is not a certificate signing request (CSR). Paste terminal.csr as the terminal made it.",
    ),
    "csr_signature": (
        "CSR の署名を検証できません (改ざんされたか、壊れています)。",
        "The request's signature does not verify (altered or damaged).",
    ),
    "csr_key": ("CSR の鍵が EC P-256 ではありません。", "The request's key is not EC P-256."),
    "csr_subject": ("CSR は別の端末IDを名乗っています。", "The request names another terminal id."),
    "terminal_exists": (
        "この端末IDはすでに登録されています。",
        "A terminal with this id is enrolled already.",
    ),
    "no_terminal_ca": (
        "このコンソールはセンターの端末CAを読めません。センターのディレクトリで起動してください。",
        "This console cannot read the center's terminal CA: start it on the center's directory.",
    ),
}


def add_routes(router: APIRouter, page: Page) -> None:
    """The forms' routes, on the Fleet ``page``'s ``router``: the guard admits each request to
    the page (its changers only, for a change), and it is the menu's current page."""

    @router.get("/fleet/enrol")
    async def enrol_form(request: Request) -> Response:
        viewer = await console_of(request).guard.admit(request, page)
        return _form(request, page, _operator(viewer), typed=dict.fromkeys(FIELDS, ""))

    @router.post("/fleet/enrol")
    async def enrol(request: Request) -> Response:
        """Certify the key of the request typed, audited; the fingerprint and the bundle's link."""
        viewer = await console_of(request).guard.admit(request, page)
        console = console_of(request)
        form = await request.form()
        typed = {name: str(form.get(name) or "").strip() for name in FIELDS}
        try:
            ca = TerminalCA.load(_directory(console))
            certificate = await enrol_requested(
                console.database,
                console.chain_key,
                ca,
                typed["terminal_id"],
                Placement(typed["store"], typed["municipality"] or None, typed["chain"] or None),
                typed["csr"],
                viewer.name,
                console.clock(),
            )
        except CenterError as refused:
            return _form(request, page, viewer, status=refused.status, typed=typed, refused=refused.code)
        bundle = EnrolmentBundle(typed["terminal_id"], certificate, _center_tls(console))
        return _form(request, page, viewer, enrolled=bundle)

    @router.get("/fleet/terminals/{terminal_id}/enrolment.json")
    async def bundle(request: Request, terminal_id: str) -> Response:
        """The terminal's enrolment bundle (public material only), as a file to carry to its kiosk."""
        viewer = await console_of(request).guard.admit(request, page)
        console = console_of(request)
        terminal_id = _terminal_id(terminal_id)
        _operator(viewer)
        der = await console.read(
            lambda connection: connection.execute(
                sa.select(terminals.c.certificate).where(terminals.c.id == terminal_id)
            ).scalar_one_or_none()
        )
        if der is None:
            raise OutOfScope("not_found", "there is no such terminal")
        issued = EnrolmentBundle(
            terminal_id, x509.load_der_x509_certificate(bytes(der)), _center_tls(console)
        )
        return Response(
            issued.to_json() + "\n",
            media_type=BUNDLE_TYPE,
            headers={"content-disposition": f'attachment; filename="enrolment-{terminal_id}.json"'},
        )

    @router.post("/fleet/terminals/{terminal_id}/place")
    async def place_terminal(request: Request, terminal_id: str) -> Response:
        """Set where the terminal stands (store, municipality, chain; empty: not known), audited."""
        viewer = await console_of(request).guard.admit(request, page)
        console = console_of(request)
        form = await request.form()
        typed = {name: str(form.get(name) or "").strip() for name in ("store", "municipality", "chain")}
        try:
            await place(
                console.database,
                console.chain_key,
                _terminal_id(terminal_id),
                viewer.name,
                console.clock(),
                store=typed["store"],
                municipality=typed["municipality"] or None,
                chain=typed["chain"] or None,
            )
        except NotFound:
            raise OutOfScope("not_found", "there is no such terminal") from None
        except BadRequest as refused:
            raise BadInput(refused.code, refused.message) from None
        return RedirectResponse(f"/fleet/terminals/{terminal_id}?done=placed", status_code=303)


def _operator(viewer: Viewer) -> Viewer:
    """Only operators enrol terminals: the form and the bundles are theirs alone."""
    if viewer.role is not Role.OPERATOR:
        raise NotAllowed("not_allowed", "your role may not enrol terminals")
    return viewer


def _form(
    request: Request, page: Page, viewer: Viewer, *, status: int = 200, **context: object
) -> HTMLResponse:
    shown: dict[str, object] = {"enrolled": None, "refused": None, "typed": {}, "refusals": REFUSALS}
    return console_of(request).render(
        request, "fleet_enrol.html", viewer, current=page, status=status, **{**shown, **context}
    )


def _terminal_id(text: str) -> str:
    try:
        return check_terminal_id(text)
    except BadRequest:
        raise OutOfScope("not_found", "there is no such terminal") from None


def _directory(console: Console) -> Path:
    if console.center_directory is None:
        raise BadInput("no_terminal_ca", "this console was not given the center's directory", status=503)
    return console.center_directory


def _center_tls(console: Console) -> bytes:
    """The center's TLS certificate, as its terminals trust it (``tls.crt`` of its directory)."""
    path = _directory(console) / "tls.crt"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput("no_center_tls", "the center's tls.crt is not in its directory", status=503) from None
