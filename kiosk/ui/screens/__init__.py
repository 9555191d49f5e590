"""One screen per step of the session, each a :class:`~kiosk.ui.screens.base.StepScreen` with its
own .kv file (the layout) next to its module (what the view becomes in words)."""

from kiosk.ui.screens.base import StepScreen
from kiosk.ui.screens.cancelled import CancelledScreen
from kiosk.ui.screens.certificate_type import CertificateTypeScreen
from kiosk.ui.screens.confirm import ConfirmScreen
from kiosk.ui.screens.copies import CopiesScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.failed import FailedScreen
from kiosk.ui.screens.idle import IdleScreen
from kiosk.ui.screens.language import LanguageScreen
from kiosk.ui.screens.maintenance import MaintenanceScreen
from kiosk.ui.screens.options import OptionsScreen
from kiosk.ui.screens.payment import PaymentScreen
from kiosk.ui.screens.pin import PinScreen
from kiosk.ui.screens.place_card import PlaceCardScreen
from kiosk.ui.screens.printing import PrintingScreen
from kiosk.ui.screens.take_card import TakeCardScreen
from kiosk.ui.screens.take_documents import TakeDocumentsScreen
from kiosk.ui.screens.whose import WhoseScreen
from kiosk.workflow.steps import Step

SCREENS: dict[Step, type[StepScreen]] = {
    screen.step: screen
    for screen in (
        IdleScreen, LanguageScreen, PlaceCardScreen, WhoseScreen, PinScreen, TakeCardScreen,
        CertificateTypeScreen, OptionsScreen, CopiesScreen, ConfirmScreen, PaymentScreen, PrintingScreen,
        TakeDocumentsScreen, DoneScreen, CancelledScreen, FailedScreen, MaintenanceScreen,
    )
}
