"""Refused tampering attempts of a signed-in account, audited (改ざん・越権の試み).

A request of a signed-in account that the console refuses as an attempt rather than a slip is a
line of the audit log (``console_request_refused``, ``refused``): its ``reason`` is the refusal's
code, its ``actor`` the account, its ``detail`` the method and the path (never the query string,
the form or a header: no personal data, no token). Those refusals are:

- a change without the session's CSRF token (``csrf_refused``) or not from the console's origin
  (``cross_origin``);
- a change the account's role may not make (``not_allowed``): an auditor's POST, municipal staff
  changing what is not their municipality's alone (reading a page the role does not read is not
  audited: a typed address);
- municipal staff asking about another municipality (``not_found``, answered 404).

A signed-out request is not audited: it has no actor, and anyone may send it.

**Bounded**, so that a flood (a script replaying a form) cannot fill the log nor hold the audit
chain's lock: per process, in memory, at most one line per account and code per minute
(:data:`WINDOW`). The first refusal is written at once and opens a minute; the refusals later in
that minute are only counted. Once the minute is over, the count is written as one line
(``occurrences``: how many, ``detail``: the last one's method and path) at the account's next
such refusal or at the console's housekeeping, whichever comes first, and that line opens the
next minute. A process that stops loses at most one minute's counts of each (account, code).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from center.audit import AuditEntry

EVENT = "console_request_refused"
WINDOW = dt.timedelta(minutes=1)
DETAIL_LENGTH = 120  # audit_log.detail


@dataclass
class _Minute:
    began: dt.datetime
    pending: int = 0  # refusals counted, not yet written
    last: str = ""  # the last one's method and path


def what(method: str, path: str) -> str:
    """A refused request as the audit line's ``detail``: its method and path, cut to fit."""
    return f"{method} {path}"[:DETAIL_LENGTH]


def _line(actor: str, code: str, detail: str, occurrences: int) -> AuditEntry:
    return AuditEntry(
        EVENT,
        "refused",
        code,
        occurrences=occurrences if occurrences > 1 else None,
        actor=actor,
        detail=detail,
    )


class RefusalLimit:
    """One console process's open minutes, per (account, code)."""

    def __init__(self, window: dt.timedelta = WINDOW) -> None:
        self.window = window
        self._minutes: dict[tuple[str, str], _Minute] = {}

    def refused(self, actor: str, code: str, detail: str, now: dt.datetime) -> AuditEntry | None:
        """The line to write for this refusal now, or ``None`` if only counted (no await between
        the check and the count: one event loop, nothing counted twice)."""
        key = (actor, code)
        minute = self._minutes.get(key)
        if minute is not None and now - minute.began < self.window:
            minute.pending += 1
            minute.last = detail
            return None
        owed = 0 if minute is None else minute.pending
        self._minutes[key] = _Minute(now)
        return _line(actor, code, detail, owed + 1)

    def due(self, now: dt.datetime) -> list[AuditEntry]:
        """The counts of the minutes that are over (the housekeeping's), each a line that opens
        the next minute; minutes over with nothing counted are forgotten (memory stays bounded
        by the accounts active in the last minute)."""
        lines = []
        for key, minute in list(self._minutes.items()):
            if now - minute.began < self.window:
                continue
            if minute.pending:
                lines.append(_line(*key, minute.last, minute.pending))
                self._minutes[key] = _Minute(now)
            else:
                del self._minutes[key]
        return lines

    def give_back(self, entry: AuditEntry) -> None:
        """A line that could not be written: counted again in its key's open minute."""
        assert entry.actor is not None and entry.reason is not None
        key = (entry.actor, entry.reason)
        minute = self._minutes.setdefault(key, _Minute(dt.datetime.min.replace(tzinfo=dt.UTC)))
        minute.pending += entry.occurrences or 1
        minute.last = minute.last or (entry.detail or "")
