"""The municipality of the registered domicile (本籍地の市区町村), of the participating ones of the
prefecture chosen."""

# mypy: allow-subclassing-any

from collections.abc import Mapping
from typing import Any

from kiosk.ui.screens.base import load_rules
from kiosk.ui.screens.listed_choice import ListedChoiceScreen
from kiosk.ui.words import municipality_name
from kiosk.workflow.steps import Step


class MunicipalityScreen(ListedChoiceScreen):
    step = Step.MUNICIPALITY
    listing = "municipalities"

    def label(self, item: Mapping[str, Any]) -> str:
        return municipality_name(self.catalog, item)


load_rules(__file__)
