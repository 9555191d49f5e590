"""``koufu staff-code``: the line for ``kiosk.toml`` that holds the store staff's maintenance code,
hashed (the code itself is asked for, never given on the command line, and never stored)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from kiosk.staff import StaffCode, StaffCodeError


def register(commands: Any) -> None:
    staff = commands.add_parser("staff-code", help="hash a staff maintenance code for kiosk.toml")
    staff.set_defaults(run=main)


def main(_args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        code = getpass.getpass("staff code (6-12 digits): ")
        if getpass.getpass("again: ") != code:
            raise StaffCodeError("the two codes differ")
    else:  # from a pipe: the first line
        code = sys.stdin.readline().strip()
    print(f'staff_code = "{StaffCode.make(code).text()}"')
    return 0
