"""A scripted resident at the real kiosk app, for the UI tests and the screenshots (リハーサル).

``python -m devtools.kiosk.rehearsal --config kiosk.toml --card CARD.json --scenario happy --language ja
--screenshots DIR [--reader pcsc:NAME --vpcd-port N]`` starts the app in a window (an in-process
reader, or a PC/SC one with the card placed through pcscd and vpcd; the demo panel), and a resident
inside the same process who touches the screens through Kivy's input path (:mod:`kiosk.ui.touches`)
and works the stand-in devices through the demo panel's buttons, the same way. Every screen the
session passes is saved as ``DIR/NN-step.png`` just before it goes away (a few more where the
screen changes on its own: the tries left, coins dropping).

On the way the resident checks what a resident should see: the step's title in the chosen
language, its back and cancel buttons, touch targets of at least 15 mm, the PIN as dots only, the
tries left, the reminders blinking, refusals in plain words (a closed service's in the center's
words, printed). It prints the screens passed (steps only) and how the session ended; the exit
status is 0 only if the scenario ended where it should.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardware.cardsim.vpcd_link import DEFAULT_PORT
from kiosk.ui.environment import quiet_kivy
from kiosk.workflow.steps import Step

if TYPE_CHECKING:  # Kivy is imported only once its environment is set (in main)
    from devtools.kiosk.demo_panel import DemoDevices
    from kiosk.assembly import Assembled
    from kiosk.ui.app import KioskApp

WAIT = 30.0  # seconds a step may take before the rehearsal gives up (a hang, not a measurement)
WALK_AWAY = 3.0  # seconds of the shortened timeout in the ``timeout`` scenario
SMALLEST_TARGET = 90  # px: 15 mm on the 1280x800 panel
PIN = "1234"

# the buttons every screen must offer (where its step takes cancel, back...)
BUTTONS: dict[Step, set[str]] = {
    Step.IDLE: {"start"},
    Step.LANGUAGE: {"cancel"},
    Step.PLACE_CARD: {"back", "cancel"},
    Step.WHOSE: {"cancel", "whose-residence", "whose-domicile"},
    Step.PIN: {"back", "cancel", "ok", "delete"},
    Step.TAKE_CARD: {"cancel"},
    Step.CERTIFICATE_TYPE: {"cancel"},
    Step.OPTIONS: {"back", "cancel", "next"},
    Step.COPIES: {"back", "cancel", "next"},
    Step.CONFIRM: {"back", "cancel", "next"},
    Step.PAYMENT: {"cancel"},
    Step.DONE: {"ok"},
    Step.CANCELLED: {"ok"},
    Step.FAILED: {"ok"},
    Step.MAINTENANCE: {"cancel"},
}


class RehearsalFailed(AssertionError):
    """The app did not show what the resident should see."""


def check(condition: object, what: str) -> None:
    if not condition:
        raise RehearsalFailed(what)


@dataclass
class Scenario:
    ends: Step
    act: Callable[[Resident], Awaitable[None]]
    timeouts: dict[Step, float] = field(default_factory=dict)


class Resident:
    """The scripted resident: waits for screens, touches buttons, works the demo panel."""

    def __init__(self, app: KioskApp, language: str, pictures: Pictures) -> None:
        self.app = app
        self.screen = app.screen
        self.language = language
        self.pictures = pictures
        self.order_id: str | None = None

    @property
    def demo(self) -> DemoDevices:
        """What the demo panel works (the panel is made with the screens, once the app runs)."""
        from devtools.kiosk.demo_panel import DemoPanel

        if not isinstance(self.app.panel, DemoPanel):
            raise RehearsalFailed("the rehearsal works the devices through the demo panel")
        return self.app.panel.demo

    # -- seeing ------------------------------------------------------------------------------
    async def reach(
        self, step: Step, until: Callable[[dict[str, Any]], bool] = lambda view: True
    ) -> dict[str, Any]:
        """Until ``step``'s screen shows a view satisfying ``until``; then checks the screen."""

        async def reached() -> None:
            while not (self.screen.current is step and self._satisfied(until)):
                await self.screen.changed()

        try:
            await asyncio.wait_for(reached(), WAIT)
        except TimeoutError:
            raise RehearsalFailed(f"waited for {step.value}; now {self.screen.current.value}") from None
        from kiosk.ui.touches import frames

        await frames(2)
        self._check_screen(step)
        return self.screen.view()

    def _satisfied(self, until: Callable[[dict[str, Any]], bool]) -> bool:
        try:
            return until(self.screen.view())
        except (KeyError, IndexError, TypeError):
            return False

    def _check_screen(self, step: Step) -> None:
        shown = self.screen.on_screen()
        pressable = [b for b in shown.buttons() if shown.visible(b) and not b.disabled]
        names = {button.target for button in pressable}
        wanted = BUTTONS.get(step, set())
        if step is Step.PIN and shown.view.get("locked"):
            wanted = {"ok"}
        check(wanted <= names, f"{step.value} lacks {sorted(wanted - names)}")
        for button in pressable:
            check(
                min(button.size) >= SMALLEST_TARGET,
                f"{step.value}: {button.target} is {button.size}, smaller than 15 mm",
            )
        if step not in (Step.IDLE, Step.LANGUAGE):
            title = shown.catalog.text(f"{step.value}.title")
            check(shown.catalog.language == self.language, f"{step.value} is not in {self.language}")
            check(
                any(getattr(w, "text", None) == title for w in shown.walk()),
                f"{step.value} does not show its title",
            )

    def words(self) -> str:
        """Every text on the screen now."""
        return "\n".join(
            str(w.text) for w in self.screen.on_screen().walk() if isinstance(getattr(w, "text", None), str)
        )

    def say(self, key: str, **values: object) -> str:
        text: str = self.screen.catalog(self.language).text(key, **values)
        return text

    async def blinking(self) -> None:
        """The reminder on the screen is blinking: its opacity changes from frame to frame."""
        from kiosk.ui.touches import frames
        from kiosk.ui.widgets import Blinking

        reminders = [w for w in self.screen.on_screen().walk() if isinstance(w, Blinking) and w.text]
        check(reminders, f"{self.screen.current.value} shows no reminder")
        seen = {round(reminders[0].opacity, 2)}
        for _ in range(300):
            await frames(1)
            seen.add(round(reminders[0].opacity, 2))
            if len(seen) > 2:
                return
        raise RehearsalFailed(f"the reminder on {self.screen.current.value} does not blink")

    # -- touching ----------------------------------------------------------------------------
    async def touch(self, target: str) -> None:
        from kiosk.ui.touches import frames, tap

        await frames(1)
        widget = self.screen.on_screen().target(target)
        check(widget is not None, f"no {target} to touch on {self.screen.current.value}")
        await tap(widget)

    async def hand(self, target: str) -> None:
        """A button of the demo panel: the card, a coin, the documents."""
        from kiosk.ui.touches import tap

        panel = self.app.panel
        if panel is None:
            raise RehearsalFailed("no demo panel")
        widget = next((b for b in panel.walk() if getattr(b, "target", None) == target), None)
        check(widget is not None, f"the demo panel has no {target}")
        await tap(widget)

    # -- the common way --------------------------------------------------------------------
    async def start(self) -> None:
        await self.reach(Step.IDLE)
        await self.touch("start")
        await self.reach(Step.LANGUAGE)
        await self.touch(f"language-{self.language}")
        await self.reach(Step.PLACE_CARD, lambda v: "reading" in v)  # it has looked for a card left

    async def card_and_whose(self) -> dict[str, Any]:
        await self.start()
        await self.hand("demo_place_card")
        await self.reach(Step.WHOSE)
        await self.touch("whose-residence")
        return await self.reach(Step.PIN, lambda v: "entered" in v)

    async def enter_pin(self, digits: str) -> None:
        for digit in digits:
            await self.touch(f"digit-{digit}")
        view = await self.reach(Step.PIN, lambda v: v["entered"] == len(digits))
        dots = self.screen.on_screen().ids.dots.text
        check(
            not any(c.isdigit() for c in dots) and dots.count("●") == view["entered"],
            "the PIN is not shown as dots only",
        )
        await self.touch("ok")

    async def through_the_card(self) -> None:
        await self.card_and_whose()
        await self.enter_pin(PIN)
        await self.reach(Step.TAKE_CARD)
        await self.blinking()
        await self.hand("demo_take_card")
        await self.reach(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)

    async def finish(self, end: Step) -> None:
        """On an end screen: take the card if it is still there, then OK."""
        await self.reach(end, lambda v: v is not None)
        if self.demo.hand.placed:
            await self.reach(end, lambda v: v.get("remind", 0) >= 1)
            await self.blinking()
            await self.hand("demo_take_card")
            await self._until(lambda: self.demo.reminding is None, "the reminder stops")
        await self.touch("ok")

    async def _until(self, condition: Callable[[], bool], what: str) -> None:
        from kiosk.ui.touches import frames

        for _ in range(2000):
            if condition():
                return
            await frames(1)
        raise RehearsalFailed(f"waited until {what}")


class Pictures:
    """The screenshots: one of every screen just before it goes away, ``NN-step.png``."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.count = 0

    async def leaving(self, screen: Any) -> None:
        await self.take(screen)

    async def take(self, screen: Any) -> None:
        if self.directory is None:
            return
        from kiosk.ui.touches import frames

        await frames(2)
        self.count += 1
        screen.export_to_png(str(self.directory / f"{self.count:02d}-{screen.step.value}.png"))


# -- the scenarios ---------------------------------------------------------------------------
async def happy(r: Resident) -> None:
    """A certificate of residence (with the head of household), paid with coins, printed, taken."""
    await r.through_the_card()
    await r.touch("choose-resident_record")
    options = await r.reach(Step.OPTIONS, lambda v: "members" in v)
    names = [member["name"] for member in options["members"]]
    check(all(name in r.words() for name in names), "the household is not shown by name")
    await r.touch("flag-head_and_relationship")
    await r.reach(Step.OPTIONS, lambda v: v["flags"]["head_and_relationship"])
    await r.touch("next")
    await r.reach(Step.COPIES, lambda v: "copies" in v)
    await r.touch("next")
    confirm = await r.reach(Step.CONFIRM, lambda v: "total" in v)
    await r.touch("next")
    fee = confirm["total"]
    await r.reach(Step.PAYMENT, lambda v: v.get("fee") == fee)
    await r.hand("demo_coin-100")
    await r.reach(Step.PAYMENT, lambda v: v.get("paid") == 100)
    check(r.say("payment.progress", paid=100, fee=fee) in r.words(), "the payment does not show paid/fee")
    await r.pictures.take(r.screen.on_screen())
    for _ in range(100, fee, 100):
        await r.hand("demo_coin-100")
    await r.reach(Step.TAKE_DOCUMENTS)
    r.order_id = r.app.workflow.context.order_id
    await r.blinking()
    await r.hand("demo_take_documents")
    await r.finish(Step.DONE)
    await r._until(lambda: bool(r.app.ended), "the session ends")
    left = [
        name
        for screen in r.screen.screens.values()
        for widget in screen.walk()
        for name in names
        if name in str(getattr(widget, "text", ""))
    ]
    check(not left, "a resident's name stays on a screen after the session")


async def wrong_pin(r: Resident) -> None:
    """A wrong PIN: the tries left are shown; then the right one, and the resident cancels."""
    first = await r.card_and_whose()
    await r.enter_pin("9999")
    await r.reach(
        Step.PIN,
        lambda v: v["wrong"] and v["tries"] == first["tries"] - 1 and v["entered"] == 0 and v["busy"] is None,
    )
    check(r.say("pin.tries_left", tries=first["tries"] - 1) in r.words(), "the tries left are not shown")
    check(r.say("pin.wrong") in r.words(), "the wrong PIN is not said")
    await r.pictures.take(r.screen.on_screen())
    await r.enter_pin(PIN)
    await r.reach(Step.TAKE_CARD)
    await r.hand("demo_take_card")
    await r.reach(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
    await r.touch("cancel")
    await r.finish(Step.CANCELLED)


async def locked(r: Resident) -> None:
    """A card whose PIN is locked: explained, no keypad, the card given back."""
    await r.card_and_whose()
    await r.reach(Step.PIN, lambda v: v["locked"])
    check(r.say("pin.locked") in r.words(), "the locked card is not explained")
    check(r.screen.on_screen().target("digit-1") is None, "a locked card still shows the keypad")
    await r.touch("ok")
    await r.reach(Step.CANCELLED, lambda v: v.get("reason") == "locked")
    await r.finish(Step.CANCELLED)


async def refused(r: Resident) -> None:
    """A resident with no registered seal: that certificate is shown unavailable with the reason;
    touching it does nothing; the resident cancels."""
    await r.through_the_card()
    view = r.screen.view()
    seal = next(c for c in view["certificates"] if c["type"] == "seal_registration")
    check(not seal["available"], "the seal certificate is offered to a resident without a seal")
    check(r.say(f"refusal.{seal['reason']}") in r.words(), "the reason is not in plain words")
    await r.touch("choose-seal_registration")
    from kiosk.ui.touches import frames

    await frames(10)
    check(r.screen.current is Step.CERTIFICATE_TYPE, "touching an unavailable certificate moved on")
    await r.touch("cancel")
    await r.finish(Step.CANCELLED)


async def closed(r: Resident) -> None:
    """The service closed by the center's calendar (the test loads one, e.g. a maintenance window
    with an operator's words): the center refuses the session the PIN screen asks for; the
    cancelled screen says why in the center's words, which the rehearsal prints (``said:``)."""
    await r.start()
    await r.hand("demo_place_card")
    await r.reach(Step.WHOSE)
    await r.touch("whose-residence")
    view = await r.reach(Step.CANCELLED, lambda v: bool(v.get("refusal")))
    why = r.screen.on_screen().ids.why  # the label that says why
    from kiosk.ui.words import CALENDAR_CODES, reason_words

    check(view["reason"] in CALENDAR_CODES, f"refused for {view['reason']}, not by the calendar")
    shown = reason_words(r.screen.catalog(r.language), view["reason"], view["refusal"])
    check(why.text == shown and shown in r.words(), "the refusal is not in the center's words")
    screen = r.screen.on_screen()
    check(why.y >= 0 and why.top <= screen.height, "the refusal's words do not fit on the screen")
    print("said:", why.text)
    await r.finish(Step.CANCELLED)


async def timeout(r: Resident) -> None:
    """The resident walks away with the card on the reader: warned first, then cancelled, the card
    asked for."""
    r.app.workflow.warn_before = WALK_AWAY / 2
    await r.start()
    await r.hand("demo_place_card")
    await r.reach(Step.WHOSE)

    async def warned() -> None:
        while not r.screen.on_screen().warning.message:
            await r.screen.changed()

    try:
        await asyncio.wait_for(warned(), WAIT)
    except TimeoutError:
        raise RehearsalFailed("no warning before the screen timed out") from None
    from kiosk.ui.touches import frames

    await frames(2)
    check(r.say("timeout.warning") in r.words(), "the warning is not shown in words")
    await r.pictures.take(r.screen.on_screen())
    await r.reach(Step.CANCELLED, lambda v: v.get("reason") == "timeout")
    check(r.say("cancelled.timeout") in r.words(), "the timeout is not explained")
    await r.finish(Step.CANCELLED)


async def staff(r: Resident) -> None:
    """Store staff: the 係員 corner of the start screen, their code (dots only), the devices' state,
    done; then a resident starts a session and cancels it."""
    from devtools.stack import DEMO_STAFF_CODE  # the code of kiosks set up by the development stack

    await r.reach(Step.IDLE)
    await r.touch("maintenance")
    await r.reach(Step.MAINTENANCE, lambda v: "entered" in v and not v.get("unlocked"))
    check(r.say("maintenance.code") in r.words(), "the staff code is not asked for")
    for digit in DEMO_STAFF_CODE:
        await r.touch(f"digit-{digit}")
    await r.reach(Step.MAINTENANCE, lambda v: v.get("entered") == len(DEMO_STAFF_CODE))
    check(DEMO_STAFF_CODE not in r.words(), "the staff code is shown")
    await r.pictures.take(r.screen.on_screen())
    await r.touch("ok")
    await r.reach(Step.MAINTENANCE, lambda v: v.get("unlocked") is True)
    check(r.say("maintenance.no_alarm") in r.words(), "the alarm state is not shown")
    check(r.say("maintenance.connected") in r.words(), "the controller's state is not shown")
    await r.touch("done")
    await r.start()
    await r.touch("cancel")
    await r.finish(Step.CANCELLED)


SCENARIOS = {
    "happy": Scenario(Step.DONE, happy),
    "wrong_pin": Scenario(Step.CANCELLED, wrong_pin),
    "locked": Scenario(Step.CANCELLED, locked),
    "refused": Scenario(Step.CANCELLED, refused),
    "closed": Scenario(Step.CANCELLED, closed),
    "timeout": Scenario(Step.CANCELLED, timeout, {Step.WHOSE: WALK_AWAY}),
    "staff": Scenario(Step.CANCELLED, staff),
}


# -- running it --------------------------------------------------------------------------------
async def rehearse(
    app: KioskApp, assembled: Assembled, scenario: Scenario, language: str, pictures: Pictures
) -> int:
    resident = Resident(app, language, pictures)
    app.screen.leaving = pictures.leaving
    serving = asyncio.ensure_future(app.serve())

    async def act() -> None:
        await app.started.wait()
        await scenario.act(resident)

    acting = asyncio.ensure_future(act())
    await asyncio.wait({serving, acting}, return_when=asyncio.FIRST_COMPLETED)
    failure: BaseException | None = None
    if acting.done() and acting.exception() is not None:
        failure = acting.exception()
        app.stop()
    try:
        await asyncio.wait_for(asyncio.shield(serving), WAIT)
    except Exception as error:
        failure = failure or error
    acting.cancel()
    passed = app.screen.shown[:-1] if app.screen.shown[-1:] == [Step.IDLE] else app.screen.shown
    print("screens:", " ".join(step.value for step in passed))
    ended = app.ended[0] if app.ended else None
    print("ended:", ended.value if ended else "-")
    if resident.order_id is not None:
        order = await asyncio.to_thread(assembled.client.order, resident.order_id)
        print("order:", order.state)
    if failure is not None:
        print(f"rehearsal failed: {type(failure).__name__}: {failure}", file=sys.stderr)
        traceback.print_exception(failure, file=sys.stderr)
        return 1
    return 0 if ended is scenario.ends else 1


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.kiosk.rehearsal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--card", type=Path, required=True, help="the resident's emulated card")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--language", choices=("ja", "en"), default="ja")
    parser.add_argument("--screenshots", type=Path, help="where the screens are saved (NN-step.png)")
    parser.add_argument(
        "--reader",
        default="inprocess",
        help="inprocess, or pcsc:<reader> to place the card through pcscd and vpcd",
    )
    parser.add_argument("--vpcd-port", type=int, default=DEFAULT_PORT, help="vpcd's port of that reader")
    parser.add_argument(
        "--step-timeout",
        type=float,
        help=f"seconds before walking away times out (the timeout scenario; default {WALK_AWAY})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    scenario = SCENARIOS[args.scenario]
    if args.step_timeout is not None:
        scenario.timeouts = dict.fromkeys(scenario.timeouts, args.step_timeout)
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-rehearsal-") as runtime:
        quiet_kivy(Path(runtime))
        from kiosk.config import KioskConfig
        from kiosk.ui.window import configure_window

        configure_window(windowed=True, side_panel=True)
        from devtools.kiosk.demo_panel import demo_panel
        from kiosk.ui.app import make_app

        app, assembled = make_app(
            KioskConfig.load(args.config),
            reader=args.reader,
            windowed=True,
            timeouts=scenario.timeouts,
            sessions=1,
            side_panel=demo_panel(args.card, vpcd_port=args.vpcd_port),
        )
        try:
            return asyncio.run(rehearse(app, assembled, scenario, args.language, Pictures(args.screenshots)))
        finally:
            assembled.close()


if __name__ == "__main__":
    sys.exit(main())
