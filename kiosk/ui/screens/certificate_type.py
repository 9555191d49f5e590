"""The certificate (証明書の種類): what the municipality offers now, with its fee, and those it
cannot issue now greyed out with the reason in plain words (the center's words, up to a few
lines, in a smaller font where they need it to fit the button)."""

# mypy: allow-subclassing-any

from kivy.metrics import dp

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.widgets import KioskButton
from kiosk.ui.words import certificate_name, fitting_font_size, refusal_words, unavailable_words
from kiosk.workflow.steps import Step


class CertificateTypeScreen(StepScreen):
    step = Step.CERTIFICATE_TYPE

    def refresh(self) -> None:
        view = self.view
        self.ids.refusal.text = refusal_words(self.catalog, view.get("refusal"))
        basket = view.get("basket", 0)
        self.ids.basket.text = self.say("certificate_type.basket", count=basket) if basket else ""
        listed = self.ids.listed
        listed.clear_widgets()
        for item in view.get("certificates", []):
            listed.add_widget(self._button(item))

    def _button(self, item: dict[str, object]) -> KioskButton:
        name = certificate_name(self.catalog, str(item["type"]))
        if item["available"]:
            words = f"{name}\n{self.say('certificate_type.fee', fee=item['fee'])}"
        else:
            why = unavailable_words(self.catalog, item)
            words = f"{name}  ({self.say('certificate_type.unavailable')})\n{why}"
        button = KioskButton(
            action="choose",
            value=item["type"],
            text=words,
            muted=not item["available"],
            font_size=26 if item["available"] else 21,
            height=130,
        )
        button.bind(on_release=lambda b: self.press(b.action, b.value))
        if not item["available"]:
            button.bind(size=_fit)
        return button


def _fit(button: KioskButton, size: tuple[float, float]) -> None:
    """The reason's font as large as fits the button (its text box: the button less the margins)."""
    width, height = size[0] - dp(24), size[1] - dp(12)
    if width > 0:
        button.font_size = fitting_font_size(button.text, width, height, largest=21, smallest=13)


load_rules(__file__)
