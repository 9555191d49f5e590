"""``koufu-dev``: the development tools' console command.

    koufu-dev run [--fullscreen] [--keep DIR]     the whole service and the kiosk on this machine
    koufu-dev demo                                one resident's card step through pcscd
    koufu-dev kiosk --config FILE --card CARD     the kiosk app with the demo panel
    koufu-dev screenshots --out DIR               every kiosk screen, in Japanese and English
    koufu-dev town --dir DIR --households N       a synthetic town in a municipality's record stores

Errors are reported as ``koufu``'s are (:func:`koufu.cli.execute`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from devtools import card_demo, run_all, town_cli
from devtools.kiosk import demo_kiosk, screenshots
from koufu.cli import command_parser, execute


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser("koufu-dev", "koufu's development tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for tool in (run_all, card_demo, demo_kiosk, screenshots, town_cli):
        tool.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return execute(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
