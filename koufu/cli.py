"""``koufu``: one console command, a subcommand per component.

    koufu card issue --out CARD [--pin NNNN] [--sign-password XXXXXX] ...
    koufu card attach CARD --vpcd HOST:PORT | --nfc udp:HOST:PORT
    koufu card status CARD
    koufu staff-code                         the staff's maintenance code, hashed for kiosk.toml
    koufu kiosk enrolment-request|install-enrolment   the terminal's key made and kept on the kiosk
    koufu authority …, koufu center …, koufu municipal …, koufu verify …

The development tools' command, ``koufu-dev`` (:mod:`devtools.cli`: the whole service on this
machine, the card demo, synthetic towns, screenshots), runs through :func:`execute` too.

Errors of every layer are turned into one-line messages here and nowhere else.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from center import cli as center_cli
from center.authority.ca import AuthorityError
from center.config import ConfigError
from center.errors import CenterError
from center.municipal import cli as municipal_cli
from center.municipal.issuer import IssuanceError
from center.municipal.registrations import RegistrationError
from center.municipal.service import MunicipalConfigError
from center.municipal.settings import SettingsError
from hardware.card.errors import CardError
from hardware.cardsim.state import CardStateError
from kiosk.errors import EnrolmentError
from koufu import authority_cli, card_cli, kiosk_cli, staff_cli
from printing import verify_cli


def command_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A console command's parser, with the ``-v`` every command of the project takes."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser("koufu", "Convenience-store certificate issuance (コンビニ交付).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    card_cli.register(commands)
    authority_cli.register(commands)
    center_cli.register(commands)
    municipal_cli.register(commands)
    verify_cli.register(commands)
    staff_cli.register(commands)
    kiosk_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return execute(build_parser(), argv)


def execute(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command (``args.run``), its errors as one line each."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result: int = args.run(args)
        return result
    except (
        CardError,
        CardStateError,
        AuthorityError,
        ConfigError,
        CenterError,
        MunicipalConfigError,
        IssuanceError,
        RegistrationError,
        SettingsError,
        EnrolmentError,
        OSError,
        ValueError,
    ) as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
