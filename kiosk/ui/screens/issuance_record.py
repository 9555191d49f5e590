"""The issuance record (交付履歴の確認): every issuance made with the resident's card in the last 12
months, newest first, in a list that scrolls — when (JST), the store, the certificate, the copies,
their issue numbers and those voided — with the municipalities that could not answer named;
print it free of charge, go back to the choice, or finish."""

# mypy: allow-subclassing-any

from typing import Any

from kivy.factory import Factory
from kivy.uix.label import Label

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.words import certificate_name, moment_words, municipality_name
from kiosk.workflow.steps import Step

VOIDED_COLOUR = (0.78, 0.10, 0.10, 1)


class IssuanceRecordScreen(StepScreen):
    step = Step.ISSUANCE_RECORD

    def refresh(self) -> None:
        view = self.view
        listed = self.ids.rows
        listed.clear_widgets()
        rows = view.get("rows", [])
        for row in rows:
            listed.add_widget(self._row(row))
        if "rows" in view and not rows:
            listed.add_widget(self._label(self.say("issuance_record.none")))
        unavailable = view.get("unavailable") or []
        self.ids.unavailable.text = (
            self.say(
                "issuance_record.unavailable",
                names="、".join(municipality_name(self.catalog, m) for m in unavailable)
                if self.catalog.language == "ja"
                else ", ".join(municipality_name(self.catalog, m) for m in unavailable),
            )
            if unavailable
            else ""
        )
        if view.get("problem"):
            self.ids.printed.text = self.say(view["problem"])
        elif view.get("printed"):
            self.ids.printed.text = self.say("issuance_record.printed")
        else:
            self.ids.printed.text = ""

    def row_words(self, row: dict[str, Any]) -> str:
        words = self.say(
            "issuance_record.row",
            when=moment_words(self.catalog, row["issued_at"]),
            store=row["store"],
            name=certificate_name(self.catalog, row["certificate_type"]),
            copies=self.copies(row["copies"]),
            municipality=municipality_name(self.catalog, row["municipality"]),
        )
        numbers = [n for n in row["issue_numbers"] if n not in row["voided"]]
        lines = [words]
        if numbers:
            lines.append(self.say("issuance_record.numbers", numbers=", ".join(numbers)))
        if row["voided"]:
            lines.append(self.say("issuance_record.voided", numbers=", ".join(row["voided"])))
        return "\n".join(lines)

    def _row(self, row: dict[str, Any]) -> Label:
        label = self._label(self.row_words(row))
        if row["voided"] and set(row["voided"]) >= set(row["issue_numbers"]):
            label.color = VOIDED_COLOUR  # every copy of it voided
        return label

    def _label(self, text: str) -> Label:
        label: Label = Factory.RecordRow(text=text)
        return label


load_rules(__file__)
