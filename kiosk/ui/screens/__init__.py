"""One screen per step of the session, each a :class:`~kiosk.ui.screens.base.StepScreen` with its
own .kv file (the layout) next to its module (what the view becomes in words).

Nothing lists the screens: every module here is imported (each loads its .kv file), and each
:class:`StepScreen` subclass that names its ``step`` is that step's screen
(:mod:`kiosk.workflow.registry`; a step with no screen, or two, is an error at import).
"""

from __future__ import annotations

from kiosk.ui.screens.base import StepScreen
from kiosk.workflow.registry import import_modules, one_per_step
from kiosk.workflow.steps import Step

import_modules(__name__, __path__)
SCREENS: dict[Step, type[StepScreen]] = one_per_step(StepScreen, "screen")
