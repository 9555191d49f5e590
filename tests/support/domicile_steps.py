"""The kiosk's steps for a registered domicile kept elsewhere (本籍地の利用登録) and the issuance
record, as the workflow's tests name them: written out here, not read from the table they test."""

from __future__ import annotations

from kiosk.workflow.steps import Step

# the application (利用登録申請), in the order the resident goes through it
APPLICATION_STEPS = (
    Step.PREFECTURE,
    Step.MUNICIPALITY,
    Step.DOMICILE_ENTRY,
    Step.HEAD_ENTRY,
    Step.APPLICATION,
    Step.SIGNING,
)
# every step the registered domicile and the issuance record added, in order
DOMICILE_STEPS = (Step.REGISTRATION, *APPLICATION_STEPS, Step.ISSUANCE_RECORD)
