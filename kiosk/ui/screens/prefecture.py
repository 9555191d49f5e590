"""The prefecture of the registered domicile (本籍地の都道府県), of those with a participating
municipality, north to south."""

# mypy: allow-subclassing-any

from collections.abc import Mapping
from typing import Any

from kiosk.ui.screens.base import load_rules
from kiosk.ui.screens.listed_choice import ListedChoiceScreen
from kiosk.ui.words import prefecture_name
from kiosk.workflow.steps import Step


class PrefectureScreen(ListedChoiceScreen):
    step = Step.PREFECTURE
    listing = "prefectures"

    def label(self, item: Mapping[str, Any]) -> str:
        return prefecture_name(self.catalog, item["code"], item["name"])


load_rules(__file__)
