"""The language (言語選択): each language's button in its own words."""

# mypy: allow-subclassing-any

from kiosk.messages import LANGUAGES, Catalog
from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.widgets import KioskButton
from kiosk.workflow.steps import Step


class LanguageScreen(StepScreen):
    step = Step.LANGUAGE

    def refresh(self) -> None:
        self.ids.title.text = self.titles()
        choices = self.ids.choices
        offered = self.view.get("languages", [])
        if [b.value for b in choices.children[::-1]] == offered:
            return
        choices.clear_widgets()
        for language in offered:
            own = Catalog.load(language)
            button = KioskButton(
                action="language", value=language, text=own.text("language.name"), font_size=44, height=150
            )
            button.bind(on_release=lambda b: self.press(b.action, b.value))
            choices.add_widget(button)

    def titles(self) -> str:
        """The title in every language, for a screen no language has been chosen on yet."""
        return "\n".join(Catalog.load(language).text("language.title") for language in LANGUAGES)


load_rules(__file__)
