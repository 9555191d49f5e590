"""The kiosk's touch UI, for real: the Kivy app on a virtual display (Xvfb, Mesa's software
OpenGL), a scripted resident inside it touching the screens through Kivy's input path and working
the stand-in devices through the demo panel, against real authority, center and municipal
server processes (:mod:`devtools.kiosk.rehearsal`). Every scenario saves a picture of every screen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from center.calendar import Closed, ServiceCalendar
from center.client import CenterClient, CenterRefusal
from devtools.kiosk import screenshots
from devtools.kiosk.residents import card_for, lock_pin
from devtools.kiosk.xvfb import virtual_display
from devtools.stack import ALWAYS_OPEN
from documents import JST
from kiosk.config import KioskConfig
from kiosk.ui.single import AlreadyRunning, only_instance
from support import books
from support.fixtures_pcscd import VpcdSlot
from support.world import World, running_world

START = ["idle", "language", "place_card", "whose"]
CARD = [*START, "pin", "take_card", "certificate_type"]
PASSES = {  # the screens each scenario goes through, in order
    "happy": [*CARD, "options", "copies", "confirm", "payment", "printing", "take_documents", "done"],
    "wrong_pin": [*CARD, "cancelled"],
    "locked": [*START, "pin", "cancelled"],
    "refused": [*CARD, "cancelled"],
    "timeout": [*START, "cancelled"],
    "staff": ["idle", "maintenance", "idle", "language", "place_card", "cancelled"],
}
POOLS = {"refused": "no_seal"}
CASES = [
    ("happy", "ja"),
    ("happy", "en"),
    ("wrong_pin", "en"),
    ("locked", "ja"),
    ("refused", "en"),
    ("timeout", "ja"),
    ("staff", "ja"),
]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display() as name:  # no Xvfb: an error, not a skip
        yield name


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-ui", 120)


@pytest.fixture(scope="module")
def config(world: World) -> Path:
    path = world.stack.kiosk_config("T-0900", reader="inprocess")
    client = world.stack.client(KioskConfig.load(path).enrolled())
    world.stack.wait_until_open(client)
    client.close()
    return path


def rehearse(
    config: Path,
    card: Path,
    scenario: str,
    language: str,
    pictures: Path,
    display: str,
    home: Path,
    *more: str,
) -> subprocess.CompletedProcess[str]:
    """The rehearsal of ``make screenshots``, in a home of the test's own."""
    return screenshots.rehearse(
        config, card, scenario, language, pictures, display, *more, home=home, timeout=110
    )


def said(output: str, label: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(f"{label}:")).split(":", 1)[1].strip()


def steps_pictured(pictures: Path) -> list[str]:
    """The steps of the pictures in order, a screen pictured twice (coins, tries) counted once."""
    steps: list[str] = []
    for picture in sorted(pictures.glob("*.png")):
        step = picture.stem.split("-", 1)[1]
        if not steps or steps[-1] != step:
            steps.append(step)
    return steps


@pytest.mark.parametrize(("scenario", "language"), CASES)
def test_a_resident_at_the_kiosk_screens(
    scenario: str, language: str, world: World, config: Path, display: str, tmp_path: Path
) -> None:
    card = card_for(world.stack, world.town, tmp_path, world.used, POOLS.get(scenario, "ordinary"))
    if scenario == "locked":
        lock_pin(card)
    home = tmp_path / "home"
    home.mkdir()
    pictures = tmp_path / "pictures"

    done = rehearse(config, card, scenario, language, pictures, display, home)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert said(done.stdout, "screens").split() == PASSES[scenario]
    assert said(done.stdout, "ended") == PASSES[scenario][-1]
    assert steps_pictured(pictures) == PASSES[scenario]
    # a screen that did not change between two steps leaves the same picture twice; the same
    # step shown twice (the start screen before and after the staff's corner) may look the same
    steps_of: dict[str, set[str]] = {}
    for picture in sorted(pictures.glob("*.png")):
        with Image.open(picture) as image:
            assert image.size == (1280, 800)
            colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
            assert colours is None or len(colours) > 8, f"{picture.name} is blank"
            digest = hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()
            steps_of.setdefault(digest, set()).add(picture.stem.split("-", 1)[1])
    assert all(len(steps) == 1 for steps in steps_of.values()), f"two steps look the same: {steps_of}"
    if scenario == "happy":
        assert said(done.stdout, "order") == "settled"
    assert not books.disagreements(world.stack, [KioskConfig.load(config).enrolled().terminal_id])
    assert not (home / ".kivy").exists()  # Kivy wrote nothing of its own into the home directory


def test_an_operator_s_maintenance_words_are_on_the_kiosk_s_screen(
    world: World, config: Path, display: str, tmp_path: Path
) -> None:
    """A maintenance window going on now, with an operator's words, in the calendar the center
    loads: the real app's cancelled screen says those words and when the window ends, in the
    resident's language (the rehearsal's ``closed`` scenario prints the label's text)."""
    now = dt.datetime.now(JST).replace(second=0, microsecond=0)  # the center's clock, as this one
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    words = {"ja": "設備点検のため、サービスを停止しています", "en": "Stopped for an equipment check"}
    window = {"start": start.isoformat(), "end": end.isoformat(), "message": words}
    maintenance = {**ALWAYS_OPEN, "maintenance": [window]}
    closed = ServiceCalendar.from_dict(maintenance).check(now)
    assert isinstance(closed, Closed)
    expected = {"ja": closed.message_ja + "。", "en": closed.message_en + "."}
    card = card_for(world.stack, world.town, tmp_path, world.used)
    client = world.stack.client(KioskConfig.load(config).enrolled())
    try:
        world.stack.load_calendar(maintenance)
        wait_until_refused(client, "maintenance")
        for language in ("ja", "en"):
            home = tmp_path / f"home-{language}"
            home.mkdir()
            pictures = tmp_path / f"pictures-{language}"
            done = rehearse(config, card, "closed", language, pictures, display, home)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
            assert said(done.stdout, "screens").split()[-1] == "cancelled"
            assert said(done.stdout, "said") == expected[language]
            assert expected[language].startswith(words[language])
            assert f"{end.hour}:{end.minute:02d}" in expected[language]  # when the window ends
            assert (pictures / f"{len(list(pictures.glob('*.png'))):02d}-cancelled.png").exists()
    finally:
        world.stack.load_calendar(ALWAYS_OPEN)
        world.stack.wait_until_open(client)
        client.close()


def wait_until_refused(client: CenterClient, code: str) -> None:
    """Until the center has read the calendar that closes for ``code`` (it re-reads every 5 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.open_session()
        except CenterRefusal as refusal:
            if refusal.code == code:
                return
        time.sleep(0.2)
    raise AssertionError(f"the center did not close for {code}")


def test_a_whole_session_with_the_card_read_through_pcscd(
    world: World, config: Path, display: str, tmp_path: Path, vpcd: VpcdSlot
) -> None:
    """The real code path of ``make run``: the demo panel's "place card" connects the emulated card
    to vpcd, and the kiosk reads it from pcscd's reader with PC/SC."""
    card = card_for(world.stack, world.town, tmp_path, world.used)
    home = tmp_path / "home"
    home.mkdir()
    done = rehearse(
        config,
        card,
        "happy",
        "ja",
        tmp_path / "pictures",
        display,
        home,
        "--reader",
        f"pcsc:{vpcd.reader}",
        "--vpcd-port",
        str(vpcd.port),
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert said(done.stdout, "screens").split() == PASSES["happy"]
    assert said(done.stdout, "order") == "settled"
    assert not books.disagreements(world.stack, [KioskConfig.load(config).enrolled().terminal_id])
    vpcd.require_empty()  # the card was taken back


def test_a_second_kiosk_app_is_refused(tmp_path: Path) -> None:
    with only_instance(tmp_path / "runtime") as lock:
        assert lock.read_text().strip() == str(os.getpid())
        with pytest.raises(AlreadyRunning), only_instance(tmp_path / "runtime"):
            pass
    with only_instance(tmp_path / "runtime"):  # released when the first ended
        pass


def test_the_kiosk_app_starts_once_only(world: World, config: Path, display: str, tmp_path: Path) -> None:
    card = card_for(world.stack, world.town, tmp_path, world.used)
    env = {**os.environ, "DISPLAY": display, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    env.pop("KIVY_HOME", None)
    command = [
        sys.executable,
        "-m",
        "devtools",
        "kiosk",
        "--config",
        str(config),
        "--windowed",
        "--card",
        str(card),
        "--reader",
        "inprocess",
    ]
    log = tmp_path / "first.log"
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        lock = tmp_path / "run" / f"koufu-kiosk-{os.getuid()}" / "kiosk.lock"
        for _ in range(600):
            if lock.exists() and lock.read_text().strip() == str(first.pid):
                break
            assert first.poll() is None, log.read_text()[-3000:]
            time.sleep(0.05)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 1
        assert "another kiosk app is running" in second.stderr
        assert first.poll() is None  # the first one goes on
    finally:
        first.terminate()
        first.wait(30)
