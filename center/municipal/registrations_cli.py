"""``koufu municipal registrations …``: the staff's view of usage registrations (本籍地の利用登録).

    koufu municipal registrations list --dir DIR [--status S]
    koufu municipal registrations approve --dir DIR ID [--by NAME]
    koufu municipal registrations deny --dir DIR ID --reason CODE [--by NAME]
    koufu municipal registrations check-revocations --dir DIR --ocsp-url URL --token-file FILE
                                                    [--ca-bundle FILE]

``list`` prints no one's name: each registration's id, status, when it was applied for, when it is
(or was) approved, and the register entry it matched (register id and position), which the staff
look up in their own family-register system; then who decided (a staff member, or ``rule``) and
a denial's reason. Times are Japan time. ``--by`` defaults to the login name of whoever runs it.

``check-revocations`` (:mod:`center.municipal.revocations`) asks the JPKI authority's OCSP
responder (``--ocsp-url``, where OCSP requests are POSTed; ``--token-file``: the file holding the
verifier token the authority gave the municipality; ``--ca-bundle``: the TLS trust for it, else
the system's) about every pending or approved registration's newest serial and suspends those
revoked; it prints counts only. Run it from the municipality's scheduler (e.g. hourly).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from center.municipal import service
from center.municipal.domicile_match import DenialReason
from center.municipal.registrations import Registration, Registrations, Status
from center.municipal.revocations import OcspBySerial, check_revocations
from documents import JST

COLUMNS = ("id", "status", "applied", "approval", "register", "position", "decided_by", "reason")


def register(sub: Any, add_location: Callable[[argparse.ArgumentParser], None]) -> None:
    registrations = sub.add_parser("registrations", help="usage registrations for the registered domicile")
    actions = registrations.add_subparsers(dest="registrations_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, run: Callable[[argparse.Namespace], int]) -> Any:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        add_location(parser)
        parser.set_defaults(run=run)
        return parser

    listing = action("list", "list the registrations (no names: register id and position)", _list)
    listing.add_argument("--status", choices=[status.value for status in Status])
    approve = action("approve", "approve a pending registration now", _approve)
    approve.add_argument("id")
    approve.add_argument("--by", help="who decides (default: your login name)")
    deny = action("deny", "deny a pending registration", _deny)
    deny.add_argument("id")
    deny.add_argument("--reason", required=True, choices=[reason.value for reason in DenialReason])
    deny.add_argument("--by", help="who decides (default: your login name)")
    revoked = action(
        "check-revocations",
        "suspend the registrations whose card the JPKI authority revoked",
        _check_revocations,
    )
    revoked.add_argument("--ocsp-url", required=True, help="the JPKI authority's OCSP responder (POST)")
    revoked.add_argument(
        "--token-file", type=Path, required=True, help="a file holding the municipality's verifier token"
    )
    revoked.add_argument(
        "--ca-bundle", type=Path, help="PEM: the TLS trust for the authority (default: the system's)"
    )


def _with_registrations(args: argparse.Namespace, work: Callable[[Registrations], int]) -> int:
    server = service.MunicipalServer.open(args.dir, db_url=args.db)
    try:
        return work(Registrations(server.engine))
    finally:
        server.close()


def _when(instant: dt.datetime | None) -> str:
    return instant.astimezone(JST).strftime("%Y-%m-%d %H:%M") if instant is not None else "-"


def line(registration: Registration) -> str:
    """One registration as ``list`` prints it (tab-separated, :data:`COLUMNS`)."""
    approval = (
        registration.decided_at
        if registration.status is Status.APPROVED
        or (registration.status is Status.SUSPENDED and registration.decided_at is not None)
        else registration.approves_at
        if registration.status is not Status.DENIED
        else None
    )
    entry = registration.entry
    return "\t".join(
        (
            registration.id,
            registration.status.value,
            _when(registration.applied_at),
            _when(approval),
            str(entry.register_id) if entry else "-",
            str(entry.position) if entry else "-",
            registration.decided_by or "-",
            registration.denial_reason.value if registration.denial_reason else "-",
        )
    )


def _list(args: argparse.Namespace) -> int:
    def work(registrations: Registrations) -> int:
        status = Status(args.status) if args.status else None
        print("\t".join(COLUMNS))
        for registration in registrations.listed(status):
            print(line(registration))
        return 0

    return _with_registrations(args, work)


def _approve(args: argparse.Namespace) -> int:
    def work(registrations: Registrations) -> int:
        registration = registrations.approve(args.id, args.by or getpass.getuser())
        print(f"{registration.id} {registration.status.value} ({_when(registration.decided_at)})")
        return 0

    return _with_registrations(args, work)


def _deny(args: argparse.Namespace) -> int:
    def work(registrations: Registrations) -> int:
        registration = registrations.deny(args.id, DenialReason(args.reason), args.by or getpass.getuser())
        print(f"{registration.id} {registration.status.value}: {args.reason}")
        return 0

    return _with_registrations(args, work)


def _check_revocations(args: argparse.Namespace) -> int:
    token = args.token_file.read_text().strip()
    if not token:
        raise ValueError(f"{args.token_file} holds no token")
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(args.ca_bundle)) if args.ca_bundle is not None else True
    )
    anchors = service.read_jpki_anchors(args.dir)
    if not anchors:
        raise ValueError(f"{service.JPKI_ANCHORS_FILE} holds no JPKI user-authentication CA to ask about")

    def work(registrations: Registrations) -> int:
        authority = OcspBySerial(args.ocsp_url, token, anchors, verify)
        try:
            found = check_revocations(registrations, authority.status)
        finally:
            authority.close()
        print(f"checked {found.checked}, suspended {found.suspended}, unknown {found.unknown}")
        return 0

    return _with_registrations(args, work)
