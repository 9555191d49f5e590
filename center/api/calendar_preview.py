"""What a terminal is answered by a service calendar at a chosen moment (the console's preview of a
change, 端末での表示の確認), worked out by the center's own code, not a copy of it.

A session meets the calendar three times, as :class:`center.service.CenterService` asks it:

1. **session** — a new session (``POST /v1/sessions``): ``calendar.check(now)``, refused as
   ``center.service.refusal`` makes it and as the API writes it (``refusal_answer``): 403 and
   ``{"error", "message", "message_ja", "reopens_at"}``.
2. **resident** — the card's proof, once the card's municipality is known: ``check(now,
   municipality)``, refused the same way.
3. **certificate** — the certificate types in the answer to the card's proof:
   ``open_types(now, municipality, …)``, each written by ``center.api.sessions.availability``
   (``open``, ``reason_code``, ``message_ja``, ``message_en``). The offer closes a type with the
   same words.

A step after a refusal is not reached. Issuance stops (交付停止, :mod:`center.incidents`) are not
part of the calendar and are not previewed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from center.api.answers import refusal_answer
from center.api.sessions import availability
from center.calendar import Decision, Open, ServiceCalendar
from center.service import refusal
from documents import CertificateType


class Step(StrEnum):
    SESSION = "session"
    RESIDENT = "resident"
    CERTIFICATE = "certificate"


@dataclass(frozen=True)
class TerminalAnswer:
    """The center's answer at one step: let through, or refused with its code and words."""

    step: Step
    open: bool
    code: str | None = None
    message_ja: str | None = None
    message_en: str | None = None
    reopens_at: str | None = None  # ISO 8601, as the API sends it (the refusals of steps 1 and 2)
    status: int | None = None  # the HTTP status of a refusal (steps 1 and 2)
    body: dict[str, object] | None = None  # the JSON body of that refusal, as the API sends it


def preview(
    calendar: ServiceCalendar,
    moment: dt.datetime,
    municipality: str | None = None,
    certificate_type: str | None = None,
) -> tuple[TerminalAnswer, ...]:
    """The answers a terminal gets at ``moment``, step by step, up to the first refusal: the
    session always; the resident's card with a ``municipality``; the certificate with a
    ``certificate_type`` too."""
    answers = [_refused_or_not(Step.SESSION, calendar.check(moment))]
    if municipality is not None and answers[-1].open:
        answers.append(_refused_or_not(Step.RESIDENT, calendar.check(moment, municipality)))
        if certificate_type is not None and answers[-1].open:
            kind = CertificateType(certificate_type)
            offered = availability(calendar.open_types(moment, municipality, [kind])[kind], None)
            answers.append(
                TerminalAnswer(
                    Step.CERTIFICATE,
                    offered.open,
                    offered.reason_code,
                    offered.message_ja,
                    offered.message_en,
                )
            )
    return tuple(answers)


def _refused_or_not(step: Step, decision: Decision) -> TerminalAnswer:
    if isinstance(decision, Open):
        return TerminalAnswer(step, True)
    answer = refusal_answer(refusal(decision))
    body: dict[str, object] = {
        "error": answer.code,
        **{name: value for name, value in answer.members.items() if value is not None},
    }
    return TerminalAnswer(
        step,
        False,
        answer.code,
        _text(body.get("message_ja")),
        _text(body.get("message")),
        _text(body.get("reopens_at")),
        answer.status,
        body,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
