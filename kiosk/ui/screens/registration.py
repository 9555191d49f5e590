"""The registered domicile's usage registration (本籍地の利用登録): none yet (the offer to apply),
pending (申請中, with the date certificates are expected), denied (不承認, with the municipality's
words, and the offer to apply again) or suspended (ask at the counter); the answer to an
application made now is said the same way."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.words import date_words, municipality_name, registration_reason
from kiosk.workflow.steps import Step


class RegistrationScreen(StepScreen):
    step = Step.REGISTRATION

    def refresh(self) -> None:
        view = self.view
        status = view.get("status")
        self.ids.status.text = self.status_words()
        self.ids.detail.text = self.detail_words()
        can_apply = bool(view.get("can_apply")) and status is not None
        apply = self.ids.apply
        apply.disabled, apply.opacity = not can_apply, 1 if can_apply else 0
        apply.text = self.say("registration.apply_again" if status == "denied" else "registration.apply")

    def status_words(self) -> str:
        view = self.view
        status = view.get("status")
        municipality = municipality_name(self.catalog, view.get("municipality"))
        if status == "none":
            return self.say("registration.none")
        if status == "pending":
            key = "registration.applied" if view.get("applied") else "registration.pending"
            return self.say(key, municipality=municipality)
        if status in ("denied", "suspended"):
            return self.say(f"registration.{status}", municipality=municipality)
        return ""

    def detail_words(self) -> str:
        view = self.view
        status = view.get("status")
        if status == "none":
            return self.say("registration.none_more")
        lines = []
        if status == "pending":
            if view.get("approves_at"):
                lines.append(
                    self.say("registration.approves_at", date=date_words(self.catalog, view["approves_at"]))
                )
            if view.get("applied_at"):
                lines.append(
                    self.say("registration.applied_at", date=date_words(self.catalog, view["applied_at"]))
                )
        elif status == "denied":
            lines.append(registration_reason(self.catalog, view.get("reason"), view.get("message")))
            lines.append(self.say("registration.denied_again"))
        return "\n".join(lines)


load_rules(__file__)
