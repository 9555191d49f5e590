"""``python -m kiosk.ui --config kiosk.toml [--demo-card CARD.json] [--windowed] [--reader SPEC]``:
the kiosk app on a terminal (full screen), or in a window with the demo panel for development."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from kiosk.ui.environment import default_runtime_dir, quiet_kivy
from kiosk.ui.single import AlreadyRunning, only_instance


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kiosk.ui", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the kiosk's settings (kiosk.toml)")
    parser.add_argument("--demo-card", type=Path, help="an emulated card's file: shows the demo panel")
    parser.add_argument("--windowed", action="store_true", help="a window with a cursor (development)")
    parser.add_argument("--reader", help="pcsc, pcsc:<name prefix> or inprocess (default: the settings')")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = default_runtime_dir()
    quiet_kivy(runtime)
    from kiosk.config import ConfigError, KioskConfig
    from kiosk.ui.window import configure_window

    try:
        config = KioskConfig.load(args.config)
    except ConfigError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 2
    configure_window(windowed=args.windowed, demo=args.demo_card is not None)
    try:
        with only_instance(runtime):
            from kiosk.ui.app import make_app

            app, assembled = make_app(config, reader=args.reader, demo_card=args.demo_card,
                                      windowed=args.windowed)
            try:
                asyncio.run(app.serve())
            finally:
                assembled.close()
    except AlreadyRunning as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
