"""The arguments a form sealed to the terminal (an offer, a refusal, a registration's status) is
sealed and opened with in the documents' tests: one municipality's key, one terminal, session
and card, so that each test names only what it changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from documents import MunicipalKey, TrustList

SESSION_ID = "S-1"
TERMINAL_ID = "T-0001"
OPENED_AFTER = dt.timedelta(seconds=30)  # opened at the terminal a little after it was sealed


@dataclass(frozen=True)
class SealedToTerminal:
    """``key`` seals to ``terminal`` at ``now`` for the card whose certificate hash is ``holder``
    (``None``: a form bound to the session only, as a refusal is)."""

    key: MunicipalKey
    terminal: ec.EllipticCurvePrivateKey
    now: dt.datetime
    holder: str | None

    def _bound(self) -> dict[str, Any]:
        return {} if self.holder is None else {"holder_certificate": self.holder}

    def sealing(self, **changes: Any) -> dict[str, Any]:
        """The sealing function's keyword arguments, with ``changes``."""
        arguments: dict[str, Any] = {
            "key": self.key,
            "session_id": SESSION_ID,
            "terminal_id": TERMINAL_ID,
            **self._bound(),
            "terminal_public_key": self.terminal.public_key(),
            "now": self.now,
        }
        return arguments | changes

    def opening(self, **changes: Any) -> dict[str, Any]:
        """The opening function's keyword arguments (the key trusted, opened a little later),
        with ``changes``."""
        arguments: dict[str, Any] = {
            "terminal_id": TERMINAL_ID,
            "terminal_key": self.terminal,
            "trust": TrustList([self.key.trusted()]),
            "session_id": SESSION_ID,
            **self._bound(),
            "now": self.now + OPENED_AFTER,
        }
        return arguments | changes
