"""``python -m kiosk.ui --config kiosk.toml [--windowed] [--reader SPEC]``: the kiosk app on a
terminal (full screen), or in a window for development (``koufu-dev kiosk`` adds the demo panel)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.ui.launch import launch


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kiosk.ui", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the kiosk's settings (kiosk.toml)")
    parser.add_argument("--windowed", action="store_true", help="a window with a cursor (development)")
    parser.add_argument("--reader", help="pcsc, pcsc:<name prefix> or inprocess (default: the settings')")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return launch(args.config, reader=args.reader, windowed=args.windowed)


if __name__ == "__main__":
    sys.exit(main())
