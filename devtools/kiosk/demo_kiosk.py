"""``koufu-dev kiosk --config kiosk.toml --card CARD [--windowed] [--reader SPEC]``: the kiosk app
with the demo panel beside it, which places the emulated card ``CARD`` on the reader (through
vpcd when the reader is a PC/SC one), drops coins and takes the printed documents."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardware.cardsim.vpcd_link import DEFAULT_PORT
from kiosk.ui.launch import launch

if TYPE_CHECKING:
    from kiosk.ui.app import SidePanel


def register(commands: Any) -> None:
    kiosk = commands.add_parser("kiosk", help="the kiosk app with the demo panel and an emulated card")
    kiosk.add_argument("--config", type=Path, required=True, help="the kiosk's settings (kiosk.toml)")
    kiosk.add_argument("--card", type=Path, required=True, help="the emulated card's file")
    kiosk.add_argument("--windowed", action="store_true", help="a window with a cursor")
    kiosk.add_argument("--reader", help="pcsc, pcsc:<name prefix> or inprocess (default: the settings')")
    kiosk.add_argument("--vpcd-port", type=int, default=DEFAULT_PORT, help="vpcd's port of that reader")
    kiosk.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.getLogger().setLevel(logging.INFO)

    def panel() -> SidePanel:
        from devtools.kiosk.demo_panel import demo_panel

        return demo_panel(args.card, vpcd_port=args.vpcd_port)

    return launch(args.config, reader=args.reader, windowed=args.windowed, side_panel=panel)
