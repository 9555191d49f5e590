"""The store staff's maintenance mode (保守モード): the staff code as dots on a keypad, then the
peripheral controller's state (alarm, door, connection, change owed) and a card left in the
reader, with "clear the alarm" and "done"."""

# mypy: allow-subclassing-any

from kivy.properties import BooleanProperty

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step

FILLED = "●"


class MaintenanceScreen(StepScreen):
    step = Step.MAINTENANCE
    unlocked = BooleanProperty(False)  # the code was right: the state and its actions, no keypad

    def refresh(self) -> None:
        view = self.view
        self.unlocked = bool(view.get("unlocked"))
        self.ids.dots.text = " ".join([FILLED] * int(view.get("entered", 0)))
        self.ids.notice.text = self.notice()
        self.ids.state.text = self.state() if self.unlocked else ""

    def notice(self) -> str:
        view = self.view
        if view.get("unavailable"):
            return self.say("maintenance.unavailable")
        if self.unlocked:
            return self.say("maintenance.not_cleared") if view.get("refused") else ""
        if view.get("wait"):
            return self.say("maintenance.wait", seconds=view["wait"])
        return self.say("maintenance.wrong") if view.get("wrong") else self.say("maintenance.code")

    def state(self) -> str:
        view = self.view
        alarm = view.get("alarm")
        door = "door_open" if view.get("door_open") else "door_closed"
        board = "connected" if view.get("connected") else "disconnected"
        lines = [
            self.say(f"maintenance.alarm.{alarm}") if alarm else self.say("maintenance.no_alarm"),
            self.say(f"maintenance.{door}"),
            self.say(f"maintenance.{board}"),
            self.say("maintenance.card_left" if view.get("card_left") else "maintenance.no_card"),
        ]
        if view.get("owed"):
            lines.append(self.say("maintenance.owed", yen=view["owed"]))
        for escalated in view.get("escalated") or ():
            lines.append(
                self.say("maintenance.escalated", order=escalated["order_id"][:8], code=escalated["code"])
            )
        return "\n".join(lines)


load_rules(__file__)
