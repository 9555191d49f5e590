"""``koufu kiosk enrolment-request`` and ``koufu kiosk install-enrolment``: a terminal enrolled
with a key made on the kiosk and kept there (:mod:`kiosk.enrolment`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from kiosk.enrolment import REQUEST, install_enrolment, request_enrolment


def register(commands: Any) -> None:
    kiosk = commands.add_parser("kiosk", help="the kiosk terminal's enrolment (端末登録)")
    sub = kiosk.add_subparsers(dest="kiosk_command", required=True, metavar="ACTION")

    request = sub.add_parser(
        "enrolment-request", help="make the terminal's key (kept here) and its request to the center"
    )
    request.add_argument("--terminal-dir", type=Path, required=True, help="the terminal's directory")
    request.add_argument("--terminal-id", required=True, help="the id the center will enrol, e.g. T-0001")
    request.set_defaults(run=_request)

    install = sub.add_parser("install-enrolment", help="install the bundle the center issued")
    install.add_argument("--terminal-dir", type=Path, required=True, help="the terminal's directory")
    install.add_argument("bundle", type=Path, help="the enrolment bundle (JSON) from the center")
    install.set_defaults(run=_install)


def _request(args: argparse.Namespace) -> int:
    request = request_enrolment(args.terminal_dir, args.terminal_id)
    print(f"key made in {args.terminal_dir} (it stays on this terminal)", file=sys.stderr)
    print(f"request in {args.terminal_dir / REQUEST}:", file=sys.stderr)
    sys.stdout.write(request.public_bytes(serialization.Encoding.PEM).decode())
    return 0


def _install(args: argparse.Namespace) -> int:
    bundle = install_enrolment(args.terminal_dir, args.bundle.read_bytes())
    print(f"terminal {bundle.terminal_id} enrolled; certificate SHA-256 {bundle.fingerprint}")
    return 0
