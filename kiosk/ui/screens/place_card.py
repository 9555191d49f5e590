"""The card placed on the reader (カードの読み取り): waiting, reading, or a card that cannot be read."""

# mypy: allow-subclassing-any

from kivy.properties import BooleanProperty

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class PlaceCardScreen(StepScreen):
    step = Step.PLACE_CARD
    reading = BooleanProperty(False)
    problem = BooleanProperty(False)

    def refresh(self) -> None:
        self.reading = bool(self.view.get("reading"))
        self.problem = bool(self.view.get("problem"))
        self.ids.state.text = self.state_words()

    def state_words(self) -> str:
        problem = self.view.get("problem")
        if problem:
            return self.say(problem)
        return self.say("place_card.reading") if self.view.get("reading") else self.say("place_card.hint")


load_rules(__file__)
