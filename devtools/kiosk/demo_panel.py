"""The demo panel (デモ操作): a strip at the side of the kiosk that plays the resident's hands and
the store's devices — place and take the emulated card, drop coins, take the printed documents —
and shows what the devices hold (the kiosk's stand-ins, or the firmware simulator's coins, light
and buzzer). Shown only when the app is given an emulated card."""

# mypy: allow-subclassing-any

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.uix.boxlayout import BoxLayout

from devtools.kiosk.hand import EmulatedHand
from hardware.cardsim.vpcd_link import DEFAULT_PORT
from kiosk.assembly import Assembled, Peripherals, StandInDevices
from kiosk.devices.stand_ins import COINS
from kiosk.ports import ReminderKind
from kiosk.ui.app import SidePanel
from kiosk.ui.screen import KivyScreen
from kiosk.ui.widgets import KioskButton
from kiosk.ui.window import SIDE_PANEL_WIDTH


@dataclass
class DemoDevices:
    """What the panel works: the resident's hand with the card, and the coins, light and buzzer —
    in-process (``devices``) or the peripheral controller's firmware simulator (``peripherals``)."""

    hand: EmulatedHand
    devices: StandInDevices
    peripherals: Peripherals | None = None

    def drop(self, coin: int) -> None:
        if self.peripherals is not None and self.peripherals.simulator is not None:
            self.peripherals.simulator.drop_coin(coin)
        else:
            self.devices.cashbox.drop(coin)

    @property
    def held(self) -> int:
        return (self.devices.cashbox if self.peripherals is None else self.peripherals.cashbox).held

    @property
    def reminding(self) -> ReminderKind | None:
        return (self.devices.reminder if self.peripherals is None else self.peripherals.reminder).active


class DemoPanel(BoxLayout):
    def __init__(self, demo: DemoDevices, screen: KivyScreen, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.demo = demo
        self.screen = screen
        self.width = SIDE_PANEL_WIDTH
        self._buttons: list[tuple[KioskButton, str, dict[str, object]]] = []
        self._add("demo_place_card", "demo.place_card", {}, lambda: demo.hand.place())
        self._add("demo_take_card", "demo.take_card", {}, lambda: demo.hand.take())
        coins = self.ids.coins
        for coin in COINS:
            self._add(
                f"demo_coin-{coin}",
                "demo.coin",
                {"coin": coin},
                lambda coin=coin: demo.drop(coin),
                into=coins,
            )
        self._add("demo_take_documents", "demo.take_documents", {}, lambda: demo.devices.printer.take())
        self._tick = Clock.schedule_interval(self.refresh, 0.25)
        self.refresh()

    def _add(self, target: str, key: str, values: dict[str, object], act: Any, into: Any = None) -> None:
        button = KioskButton(action=target, font_size=22, height=96)
        button.bind(on_release=lambda _button: act())
        (into or self.ids.hands).add_widget(button)
        self._buttons.append((button, key, values))

    def refresh(self, *_args: Any) -> None:
        catalog = self.screen.on_screen().catalog
        for button, key, values in self._buttons:
            button.text = catalog.text(key, **values)
        self.ids.title.text = catalog.text("demo.title")
        devices = self.demo.devices
        reminder = self.demo.reminding
        reminding = f"demo.reminder.{reminder.value}" if reminder else "demo.reminder.off"
        self.ids.state.text = "\n".join(
            (
                catalog.text("demo.held", yen=self.demo.held),
                catalog.text("demo.card_placed") if self.demo.hand.placed else catalog.text("demo.no_card"),
                catalog.text(reminding),
                catalog.text("demo.tray", documents=len(devices.printer.tray)),
            )
        )


def demo_panel(card: Path, *, vpcd_port: int = DEFAULT_PORT) -> SidePanel:
    """The kiosk app's side panel for the emulated card ``card`` (its state file), placed through
    vpcd's ``vpcd_port`` when the terminal's reader is a PC/SC one."""

    def made(assembled: Assembled, screen: KivyScreen) -> DemoPanel:
        hand = EmulatedHand(card, assembled.reader, vpcd_port=vpcd_port)
        return DemoPanel(DemoDevices(hand, assembled.devices, assembled.peripherals), screen)

    return made


Builder.load_file(str(Path(__file__).with_name("demo_panel.kv")))
