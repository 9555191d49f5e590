"""``make run``'s card demo, end to end through the real pcscd and vpcd."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.cli import main
from support.canaries import holds
from support.fixtures_pcscd import VpcdSlot


def test_demo_reads_verifies_and_signs(
    vpcd: VpcdSlot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slot = vpcd
    code = main(
        ["demo", "--workdir", str(tmp_path), "--vpcd", f"{slot.host}:{slot.port}", "--reader", slot.reader]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 PIN tries left" in out
    assert "7 APDUs" in out
    assert "signature verified" in out and "card taken back" in out
    assert not holds(out, "1234")


def test_demo_with_a_wrong_pin_fails_cleanly(
    vpcd: VpcdSlot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slot = vpcd
    code = main(
        [
            "demo",
            "--workdir",
            str(tmp_path),
            "--pin",
            "9999",
            "--vpcd",
            f"{slot.host}:{slot.port}",
            "--reader",
            slot.reader,
        ]
    )
    assert code == 1
    assert "wrong PIN, 2 tries remaining" in capsys.readouterr().err
