"""What the certificate shows (記載事項): the household members on a resident record and its
optional items, the tax certificate's kind and year, the family register's scope."""

# mypy: allow-subclassing-any

from typing import Any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.widgets import KioskButton
from kiosk.ui.words import certificate_name, relationship
from kiosk.workflow.steps import Step

TICK, BOX = "■", "□"


class OptionsScreen(StepScreen):
    step = Step.OPTIONS

    def refresh(self) -> None:
        view = self.view
        kind = view.get("certificate_type")
        self.ids.kind.text = certificate_name(self.catalog, kind) if kind else ""
        choices = self.ids.choices
        choices.clear_widgets()
        for member in view.get("members", []):
            words = f"{member['name']}  {relationship(self.catalog, member['relationship'])}"
            if member["holder"]:
                words += self.say("options.holder")
            choices.add_widget(self._toggle("member", member["member"], words, member["chosen"]))
        for flag, on in view.get("flags", {}).items():
            choices.add_widget(self._toggle("flag", flag, self.say(f"options.flag.{flag}"), on))
        for tax_kind in view.get("tax_kinds", []):
            choices.add_widget(
                self._choice(
                    "tax_kind", tax_kind, self.say(f"tax_kind.{tax_kind}"), tax_kind == view.get("tax_kind")
                )
            )
        for year in view.get("tax_years", []):
            choices.add_widget(
                self._choice(
                    "tax_year", year, self.say("options.tax_year", year=year), year == view.get("tax_year")
                )
            )
        for scope in view.get("scopes", []):
            choices.add_widget(
                self._choice("scope", scope, self.say(f"options.scope.{scope}"), scope == view.get("scope"))
            )

    def _toggle(self, action: str, value: Any, words: str, on: bool) -> KioskButton:
        return self._choice(action, value, f"{TICK if on else BOX} {words}", on)

    def _choice(self, action: str, value: Any, words: str, chosen: bool) -> KioskButton:
        button = KioskButton(action=action, value=value, text=words, chosen=chosen, font_size=24, height=100)
        button.bind(on_release=lambda b: self.press(b.action, b.value))
        return button


load_rules(__file__)
