"""The 本籍 of the usage registration's application, typed on the kana keyboard (places first)."""

# mypy: allow-subclassing-any

from kiosk.kana import Field
from kiosk.ui.screens.entry import EntryScreen
from kiosk.workflow.steps import Step


class DomicileEntryScreen(EntryScreen):
    step = Step.DOMICILE_ENTRY
    field = Field.ADDRESS
