"""Refusals no enrolled terminal can be held to, counted (門前払いの集計).

A request that is unsigned, whose signature headers are malformed, or that names a terminal the
center has not enrolled (:class:`~center.errors.UnattributedRequest`) says nothing about any
terminal: anyone on the network can send them, as fast as they like. Writing one chained audit
line for each would take the audit chain's lock for each, so a flood of them would queue every
real decision (a session opened, a resident accepted) behind junk. They are counted instead, in
memory, per refusal code and per center process; the process's housekeeping writes one audit
line per code now and then (``unattributed_requests``, ``refused``, the code, and
``occurrences``: how many since the process's previous such line), and the process writes what
is left when it stops.

Refusals of an enrolled terminal's request (a bad signature, a replay, its clock, its status) are
security events about that terminal and stay one audit line each (``center.service``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping

from center.audit import AuditEntry

EVENT = "unattributed_requests"


class RefusalTally:
    """One process's counts of unattributed refusals, by code, since they were last taken."""

    def __init__(self, since: dt.datetime) -> None:
        self._counts: Counter[str] = Counter()
        self.since = since  # when the counts now held began

    def count(self, code: str) -> None:
        self._counts[code] += 1

    def take(self, now: dt.datetime) -> tuple[dt.datetime, dict[str, int]]:
        """The counts since :attr:`since`, and a new count from ``now`` (no await: nothing is
        counted twice or lost between the two on the event loop)."""
        counts, since = dict(self._counts), self.since
        self._counts, self.since = Counter(), now
        return since, counts

    def give_back(self, since: dt.datetime, counts: Mapping[str, int]) -> None:
        """Counts that could not be written, added to the next line (which then starts at ``since``)."""
        self._counts.update(counts)
        self.since = min(self.since, since)


def summary_lines(counts: Mapping[str, int]) -> list[AuditEntry]:
    """The audit lines that stand for ``counts``: one per refusal code, in the codes' order."""
    return [
        AuditEntry(EVENT, "refused", code, occurrences=number)
        for code, number in sorted(counts.items())
        if number > 0
    ]
