"""Stopping issuance now (交付停止): an operator's answer to an incident.

An operator stops issuance of everything, of one municipality (市区町村), of one certificate
type (証明書の種類) or at one terminal (端末), with a reason residents are shown, in Japanese and
in English, and lifts the stop (再開) the same way. Several stops may be in force at once; a
lifted stop stays in the history (it is audit material), with who set it and lifted it, and when.

Where a stop applies, a request made after it was set is refused with one code,
``issuance_stopped`` (:class:`~center.errors.IssuanceStopped`), carrying the reason's words:

- everything, or this terminal: a new session, the card's proof, the offer and a new order;
- a municipality: the card's proof, the offer and a new order of a resident of it;
- a certificate type: it is offered as unavailable with the reason, and a new order for it is
  refused.

An order already placed is never cut short: a placement repeated under its idempotency key and
the order's later steps (printing, printed, settle, void, refunded) are not asked about stops,
so an order in flight completes or voids as it would have (the coins and the paper balance).

This module is the rules and the values, free of the database and of the web (the store part is
:mod:`center.incidents_store`). Every value an operator types is checked here: a reason is one
line of plain text, at most :data:`MAX_REASON` characters in each language; an operator's name is
at most :data:`MAX_OPERATOR`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from center.calendar_rules import validate_municipality_code
from center.errors import BadRequest, IssuanceStopped
from center.terminals import check_terminal_id
from documents import CertificateType
from documents.basics import RESIDENT_WORDS_MAX, plain_line

__all__ = [
    "MAX_OPERATOR",
    "MAX_REASON",
    "ActiveStops",
    "IssuanceStop",
    "Scope",
    "StopReason",
    "connected_municipality",
    "operator_name",
    "plain_text",
    "stop_target",
]

MAX_REASON = RESIDENT_WORDS_MAX  # characters in each language, as every word for residents (160)
MAX_OPERATOR = 64


class Scope(StrEnum):
    """What a stop applies to, most general first (the order in which stops are reported)."""

    ALL = "all"  # 全面停止
    TERMINAL = "terminal"
    MUNICIPALITY = "municipality"
    CERTIFICATE_TYPE = "certificate_type"


def plain_text(text: str, what: str, most: int) -> str:
    """``text`` without the spaces around it, if it is one line of plain text of 1 to ``most``
    characters; else ``bad_stop``."""
    if not isinstance(text, str):
        raise BadRequest("bad_stop", f"{what} must be text")
    text = text.strip()
    if not 1 <= len(text) <= most:
        raise BadRequest("bad_stop", f"{what} must be 1 to {most} characters, not {len(text)}")
    if not plain_line(text):
        raise BadRequest(
            "bad_stop", f"{what} must be one line of plain text (no control characters, no < or >)"
        )
    return text


def operator_name(name: str) -> str:
    """Who does it: an operator's name (the console's accounts come later), checked as plain text."""
    return plain_text(name, "the operator's name", MAX_OPERATOR)


@dataclass(frozen=True)
class StopReason:
    """The words residents are shown, in Japanese and in English (both required)."""

    ja: str
    en: str

    @classmethod
    def of(cls, ja: str, en: str) -> StopReason:
        return cls(
            plain_text(ja, "the reason in Japanese", MAX_REASON),
            plain_text(en, "the reason in English", MAX_REASON),
        )


def stop_target(scope: Scope, target: str | None) -> str | None:
    """The target of a stop of ``scope``, checked: none for everything, a municipality code (with
    its check digit), a certificate type, or a terminal id."""
    if scope is Scope.ALL:
        if target is not None:
            raise BadRequest("bad_stop", "a stop of everything names no target")
        return None
    if target is None:
        raise BadRequest("bad_stop", f"a stop of one {scope.value.replace('_', ' ')} names it")
    try:
        if scope is Scope.MUNICIPALITY:
            return validate_municipality_code(target)
        if scope is Scope.CERTIFICATE_TYPE:
            return CertificateType(target).value
    except ValueError:
        known = ", ".join(kind.value for kind in CertificateType)
        what = "a municipality code" if scope is Scope.MUNICIPALITY else f"one of {known}"
        raise BadRequest("bad_stop", f"{target!r} is not {what}") from None
    return check_terminal_id(target)


def connected_municipality(code: str, connected: Collection[str]) -> str:
    """``code``, if it is a municipality connected to this center (``koufu center
    add-municipality``): a stop of any other would refuse nobody, and is refused as a mistake."""
    if code not in connected:
        raise BadRequest("bad_stop", f"municipality {code} is not connected to this center")
    return code


@dataclass(frozen=True)
class IssuanceStop:
    """One stop, in force or lifted (its history)."""

    stop_id: int
    scope: Scope
    target: str | None  # None for everything
    reason: StopReason
    stopped_by: str
    stopped_at: dt.datetime
    lifted_by: str | None = None
    lifted_at: dt.datetime | None = None

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None

    def describe(self) -> str:
        """What it stops, for operators: ``everything``, ``municipality 131016``, …"""
        if self.scope is Scope.ALL:
            return "everything"
        return f"{self.scope.value.replace('_', ' ')} {self.target}"

    def refusal(self) -> IssuanceStopped:
        return IssuanceStopped.of(self.reason.ja, self.reason.en, self.stop_id)


@dataclass(frozen=True)
class ActiveStops:
    """The stops in force at one instant, and which of them applies to a request: the most
    general first (everything, the terminal, the municipality, the certificate type), the
    oldest of those first."""

    stops: tuple[IssuanceStop, ...] = ()

    @classmethod
    def of(cls, stops: Iterable[IssuanceStop]) -> ActiveStops:
        ranks = list(Scope)
        return cls(
            tuple(sorted(stops, key=lambda stop: (ranks.index(stop.scope), stop.stopped_at, stop.stop_id)))
        )

    def __bool__(self) -> bool:
        return bool(self.stops)

    def for_session(self, terminal_id: str) -> IssuanceStop | None:
        """The stop that refuses a new session (or anything else) at ``terminal_id``."""
        return self._first(terminal_id=terminal_id)

    def for_resident(self, terminal_id: str, municipality: str) -> IssuanceStop | None:
        """The stop that refuses a resident of ``municipality`` at ``terminal_id`` (the card's
        proof, the offer)."""
        return self._first(terminal_id=terminal_id, municipality=municipality)

    def for_certificate(self, kind: str) -> IssuanceStop | None:
        """The stop of this certificate type (offered as unavailable)."""
        return self._first(kinds=(kind,), only_kinds=True)

    def for_order(self, terminal_id: str, municipality: str, kinds: Sequence[str]) -> IssuanceStop | None:
        """The stop that refuses a new order of ``kinds`` for a resident of ``municipality``."""
        return self._first(terminal_id=terminal_id, municipality=municipality, kinds=kinds)

    def _first(
        self,
        *,
        terminal_id: str | None = None,
        municipality: str | None = None,
        kinds: Sequence[str] = (),
        only_kinds: bool = False,
    ) -> IssuanceStop | None:
        for stop in self.stops:
            applies = {
                Scope.ALL: not only_kinds,
                Scope.TERMINAL: stop.target == terminal_id,
                Scope.MUNICIPALITY: stop.target == municipality,
                Scope.CERTIFICATE_TYPE: stop.target in kinds,
            }[stop.scope]
            if applies:
                return stop
        return None
