"""``koufu-dev screenshots --out DIR`` (``make screenshots``): every rehearsal scenario in both
languages, with a screenshot of every screen, against a stack of its own (authority, center, one
synthetic town, always open) on a virtual display. ``DIR/<scenario>-<language>/NN-step.png``; and
the registered domicile's and the issuance record's screens, each with a made-up view
(:mod:`devtools.kiosk.gallery`), ``DIR/domicile-<language>/NN-name.png``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devtools.kiosk.residents import card_for, lock_pin
from devtools.kiosk.xvfb import virtual_display
from devtools.stack import ALWAYS_OPEN, DevStack, start_stack
from kiosk.config import KioskConfig

TOWN = {"131016": ("千代田区", 60)}
POOLS = {"refused": "no_seal"}  # who comes for each scenario (default: an ordinary resident)
SCENARIOS = ("happy", "wrong_pin", "locked", "refused", "timeout", "domicile")  # domicile: the gallery
LANGUAGES = ("ja", "en")


def rehearse(
    config: Path,
    card: Path,
    scenario: str,
    language: str,
    out: Path,
    display: str,
    *more: str,
    home: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The kiosk app playing ``scenario`` on ``display`` in a process of its own, its screens saved
    in ``out`` (``more``: further arguments of the rehearsal; ``home``: its home directory, with
    no Kivy home of ours)."""
    env = {**os.environ, "DISPLAY": display}
    if home is not None:
        env["HOME"] = str(home)
        env.pop("KIVY_HOME", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.kiosk.rehearsal",
            "--config",
            str(config),
            "--card",
            str(card),
            "--scenario",
            scenario,
            "--language",
            language,
            "--screenshots",
            str(out),
            *more,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def gallery(out: Path, languages: Sequence[str], display: str) -> int:
    """The registered domicile's and the issuance record's screens (no stack needed); failures."""
    failed = 0
    for language in languages:
        done = subprocess.run(
            [sys.executable, "-m", "devtools.kiosk.gallery", "--language", language,
             "--out", str(out / f"domicile-{language}")],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )  # fmt: skip
        print(f"domicile {language}: {'ok' if done.returncode == 0 else 'FAILED'}")
        if done.returncode != 0:
            failed += 1
            print(done.stderr[-3000:], file=sys.stderr)
    return failed


def resident_card(stack: DevStack, scenario: str, directory: Path, used: set[int]) -> Path:
    town = next(iter(stack.towns.values()))
    card = card_for(stack, town, directory, used, POOLS.get(scenario, "ordinary"))
    if scenario == "locked":
        lock_pin(card)
    return card


def register(commands: Any) -> None:
    shots = commands.add_parser("screenshots", help="every kiosk screen, in Japanese and English")
    shots.add_argument("--out", type=Path, required=True)
    shots.add_argument("--scenario", action="append", choices=SCENARIOS, help="default: all")
    shots.add_argument("--language", action="append", choices=LANGUAGES, help="default: both")
    shots.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kiosk-screenshots-") as temporary, virtual_display() as display:
        root = Path(temporary)
        stack = start_stack(root / "stack", towns=TOWN)
        try:
            stack.load_calendar(ALWAYS_OPEN)
            config = stack.kiosk_config("T-SCREENSHOTS", reader="inprocess")
            client = stack.client(KioskConfig.load(config).enrolled())
            stack.wait_until_open(client)
            client.close()
            used: set[int] = set()
            for scenario in args.scenario or SCENARIOS:
                if scenario == "domicile":
                    failed += gallery(args.out, args.language or LANGUAGES, display)
                    continue
                card = resident_card(stack, scenario, root, used)  # one resident for both languages
                for language in args.language or LANGUAGES:
                    out = args.out / f"{scenario}-{language}"
                    done = rehearse(config, card, scenario, language, out, display)
                    passed = [line for line in done.stdout.splitlines() if line.startswith("screens:")]
                    print(
                        f"{scenario} {language}: {'ok' if done.returncode == 0 else 'FAILED'}; "
                        f"{passed[0] if passed else ''}"
                    )
                    if done.returncode != 0:
                        failed += 1
                        print(done.stderr[-3000:], file=sys.stderr)
        finally:
            stack.stop()
    return 1 if failed else 0
