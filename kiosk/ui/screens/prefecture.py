"""The prefecture of the registered domicile (本籍地の都道府県), of those with a participating
municipality, north to south."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.widgets import KioskButton
from kiosk.ui.words import prefecture_name
from kiosk.workflow.steps import Step


class PrefectureScreen(StepScreen):
    step = Step.PREFECTURE

    def refresh(self) -> None:
        listed = self.ids.listed
        listed.clear_widgets()
        for item in self.view.get("prefectures", []):
            button = KioskButton(
                action="prefecture",
                value=item["code"],
                text=prefecture_name(self.catalog, item["code"], item["name"]),
                chosen=item["code"] == self.view.get("chosen"),
                font_size=28,
            )
            button.bind(on_release=lambda b: self.press(b.action, b.value))
            listed.add_widget(button)


load_rules(__file__)
