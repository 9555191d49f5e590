"""The municipality of the registered domicile (本籍地の市区町村), of the participating ones of the
prefecture chosen."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.widgets import KioskButton
from kiosk.ui.words import municipality_name
from kiosk.workflow.steps import Step


class MunicipalityScreen(StepScreen):
    step = Step.MUNICIPALITY

    def refresh(self) -> None:
        listed = self.ids.listed
        listed.clear_widgets()
        for item in self.view.get("municipalities", []):
            button = KioskButton(
                action="municipality",
                value=item["code"],
                text=municipality_name(self.catalog, item),
                chosen=item["code"] == self.view.get("chosen"),
                font_size=28,
            )
            button.bind(on_release=lambda b: self.press(b.action, b.value))
            listed.add_widget(button)


load_rules(__file__)
