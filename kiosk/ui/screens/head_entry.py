"""The 筆頭者 of the usage registration's application, typed on the kana keyboard (names first)."""

# mypy: allow-subclassing-any

from kiosk.kana import Field
from kiosk.ui.screens.entry import EntryScreen
from kiosk.workflow.steps import Step


class HeadEntryScreen(EntryScreen):
    step = Step.HEAD_ENTRY
    field = Field.NAME
