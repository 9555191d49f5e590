"""The order journal (kiosk/journal.py) on its own: each stage kept as written, a torn write or a
stage it does not know dropped, and a report the center refused kept for the staff until cleared
(an unreadable line of them shown too, never lost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.journal import Escalation, JournalEntry, OrderJournal


def test_every_stage_is_kept_as_written(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "journal.json")
    assert journal.pending() is None
    for stage in ("placed", "printing", "printed", "paid"):
        journal.record("O-1", stage, ["N-1", "N-2"], 400)
        assert journal.pending() == JournalEntry("O-1", stage, ("N-1", "N-2"), 400)
    with pytest.raises(ValueError):
        journal.record("O-1", "settled")
    journal.clear()
    assert journal.pending() is None and not journal.path.exists()


@pytest.mark.parametrize(
    "text",
    [
        b'{"order_id": "O-1", "stage": "pla',
        b'{"order_id": "O-1", "stage": "settled", "issue_numbers": [], "fee": 0}',
        b"\xff",
    ],
)
def test_a_torn_or_unknown_journal_is_dropped(tmp_path: Path, text: bytes) -> None:
    journal = OrderJournal(tmp_path / "journal.json")
    journal.path.write_bytes(text)
    assert journal.pending() is None and not journal.path.exists()


def test_a_refused_report_waits_for_the_staff_and_frees_the_journal(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "journal.json")
    journal.record("O-1", "paid", ["N-1"], 300)
    paid = journal.pending()
    assert paid is not None
    journal.escalate(paid, "order_state")
    assert journal.pending() is None  # the next order may be written
    journal.record("O-2", "placed")
    journal.escalate(JournalEntry("O-2", "placed"), "wrong_amount")
    with open(journal.escalations_path, "ab") as file:
        file.write(b'{"order_id": "O-3", "sta\xff\n')  # torn
    assert journal.escalations() == [
        Escalation("O-1", "paid", "order_state", 300),
        Escalation("O-2", "placed", "wrong_amount", 0),
        Escalation("?", "?", "unreadable"),
    ]
    assert journal.clear_escalations() == 3
    assert journal.escalations() == [] and not journal.escalations_path.exists()
