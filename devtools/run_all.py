"""``koufu-dev run`` (``make run``): the whole service on one machine, ready to be touched.

Started, with the embedded defaults: the JPKI test authority, the center, synthetic
municipalities with their issuance servers (real processes over TLS on loopback), a
registers-only municipality keeping the family registers (本籍地) of the first town's residents
whose 本籍 is there, pcscd with vsmartcard's vpcd reader, an emulated My Number Card for such a
resident of the first town (PIN 1234, signing password ABC123: certificates of the residence, and
the registered domicile's after a usage registration, which the domicile's staff approve with
``koufu municipal registrations``), and the kiosk app in a window with the demo panel: "place
card" connects the card to vpcd, so the kiosk reads it through pcscd exactly as a real card in a
real reader (the real code path).
The coins, the card tray's light and the buzzer are the peripheral controller's real firmware on
the MicroPython unix port behind a pseudo-terminal (the panel drops coins into the acceptor
its simulator plays); the printer is the kiosk's in-process stand-in, its tray on the same panel.

The service is open around the clock here (the real calendar would close it from 23:00 to
6:30). Without a display, the kiosk runs on a virtual one (Xvfb) and says so. Everything is
written to a fresh temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardware.cardsim.pcscd import VPCD_READER, ensure_pcscd
from kiosk.config import FIRMWARE_SIMULATOR, KioskConfig

if TYPE_CHECKING:
    from devtools.stack import DevStack

TOWNS = {"131016": ("千代田区", 300), "132012": ("八王子市", 200)}
DOMICILES = {"271276": ("大阪市北区", "131016")}  # the registered domicile of some of 千代田区's residents
TERMINAL = "T-0001"


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="the whole service on this machine: authority, center, "
        "towns, pcscd and the kiosk with an emulated card",
    )
    run.add_argument("--fullscreen", action="store_true", help="the kiosk in full screen, as in a store")
    run.add_argument("--keep", type=Path, help="keep everything in this directory (default: temporary)")
    run.set_defaults(run=main)


def main(args: argparse.Namespace) -> int:
    # stopped by a signal (systemd, a terminal closed): the finally clauses stop every process
    signal.signal(signal.SIGTERM, _interrupt)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _run(args.keep, fullscreen=args.fullscreen)
    with tempfile.TemporaryDirectory(prefix="koufu-run-") as directory:
        return _run(Path(directory), fullscreen=args.fullscreen)


def _run(root: Path, *, fullscreen: bool) -> int:
    from devtools.stack import ALWAYS_OPEN, DEMO_STAFF_CODE, start_stack

    print("starting the JPKI authority, the center and the municipalities …", flush=True)
    stack = start_stack(root / "stack", towns=TOWNS, domiciles=DOMICILES)
    daemon = None
    try:
        stack.load_calendar(ALWAYS_OPEN)
        config = stack.kiosk_config(TERMINAL, reader=f"pcsc:{VPCD_READER}", peripherals=FIRMWARE_SIMULATOR)
        client = stack.client(KioskConfig.load(config).enrolled())
        stack.wait_until_open(client)
        client.close()
        card, domicile, head = _resident_card(stack, root)
        daemon = ensure_pcscd()
        towns = ", ".join(f"{code} {name}" for code, (name, _households) in TOWNS.items())
        print(f"center {stack.center_url}; towns {towns}")
        print(f"an emulated My Number Card of a resident of {TOWNS['131016'][0]}: PIN 1234")
        (code, (name, _town)), *_ = DOMICILES.items()
        print(
            f"their 本籍 is kept by {name} ({code}): to apply for its usage registration, type the 本籍 "
            f"{domicile} and the 筆頭者 {head}; signing password ABC123; its staff approve at once with "
            f"`koufu municipal registrations list|approve --dir {stack.towns[code].directory}`"
        )
        print(
            "the demo panel beside the kiosk places the card on the reader (through pcscd), drops coins "
            "and takes the printed documents"
        )
        print(
            "coins, the card tray's light and the buzzer run on the peripheral firmware, on the "
            "MicroPython unix port (behind a pseudo-terminal)"
        )
        print(
            f"staff: the 係員 corner of the start screen opens the maintenance mode, code {DEMO_STAFF_CODE}"
        )
        return _kiosk(config, card, fullscreen=fullscreen)
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(10)
        stack.stop()


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _resident_card(stack: DevStack, root: Path) -> tuple[Path, str, str]:
    """The card of a resident of the first town whose 本籍 is at the domicile; what they type."""
    from devtools.kiosk.residents import domicile_card_for

    holder = domicile_card_for(stack, stack.towns["131016"], root, set())
    return holder.card, holder.domicile, holder.head


def _kiosk(config: Path, card: Path, *, fullscreen: bool) -> int:
    command = [sys.executable, "-m", "devtools", "kiosk", "--config", str(config), "--card", str(card)]
    if not fullscreen:
        command.append("--windowed")
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return _until_closed(command, dict(os.environ))
    from devtools.kiosk.xvfb import virtual_display

    with virtual_display() as display:
        print(
            f"no display here: the kiosk runs on a virtual display ({display}, Xvfb) where nothing "
            f"can be seen or touched; run `make run` on a desktop or a kiosk's screen to use it, "
            f"or `make screenshots` to see every screen. Ctrl-C stops.",
            flush=True,
        )
        return _until_closed(command, {**os.environ, "DISPLAY": display})


def _until_closed(command: list[str], env: dict[str, str]) -> int:
    kiosk = subprocess.Popen(command, env=env)
    try:
        return kiosk.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if kiosk.poll() is None:
            kiosk.terminate()
            try:
                kiosk.wait(10)
            except subprocess.TimeoutExpired:
                kiosk.kill()
