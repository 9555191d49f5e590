"""The ``koufu`` console command: issuing and inspecting emulated cards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from center.enrolment import EnrolledTerminal
from hardware.cardsim.card import VirtualCard
from koufu.cli import main


def test_card_issue_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card = tmp_path / "card.json"
    code = main(
        [
            "card",
            "issue",
            "--out",
            str(card),
            "--pin",
            "4321",
            "--authority",
            str(tmp_path / "ca"),
            "--my-number",
            "123456789018",
            "--birth-date",
            "1985-02-03",
        ]
    )
    assert code == 0 and card.exists()
    emulated = VirtualCard.open(card)
    assert emulated.state.holder.my_number == "123456789018"
    assert emulated.state.holder.birth_date == "19850203"
    assert main(["card", "status", str(card)]) == 0
    out = capsys.readouterr().out
    assert "JPKIAPICCTOKEN2" in out and "user-authentication PIN [jpki.auth]: 3/3 tries" in out
    assert "4321" not in out and "123456789018" not in out


def test_bad_input_gives_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "card",
            "issue",
            "--out",
            str(tmp_path / "c.json"),
            "--pin",
            "12",
            "--authority",
            str(tmp_path / "ca"),
        ]
    )
    assert code == 1
    assert "user-authentication PIN must be 4 characters" in capsys.readouterr().err
    assert main(["card", "status", str(tmp_path / "missing.json")]) == 1
    assert (
        main(
            [
                "card",
                "issue",
                "--out",
                str(tmp_path / "c.json"),
                "--my-number",
                "123456789010",
                "--authority",
                str(tmp_path / "ca"),
            ]
        )
        == 1
    )


def test_console_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "koufu", "--help"], capture_output=True, text=True, check=True
    )
    assert "card" in result.stdout and "verify" in result.stdout
    assert "demo" not in result.stdout  # the development tools have their own command


def test_the_development_command_lists_its_tools() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devtools", "--help"], capture_output=True, text=True, check=True
    )
    for tool in ("run", "demo", "kiosk", "screenshots", "town"):
        assert f"    {tool}" in result.stdout, tool


def test_a_terminal_is_enrolled_from_the_command_line_and_a_bad_id_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    center, out = tmp_path / "center", tmp_path / "T-0042"
    assert main(["center", "init", "--dir", str(center)]) == 0
    assert (
        main(
            ["center", "enroll-terminal", "T-0042", "--dir", str(center), "--store", "店", "--out", str(out)]
        )
        == 0
    )
    terminal = EnrolledTerminal.load(out)
    assert terminal.terminal_id == "T-0042"
    assert (out / "center-tls.crt").read_bytes() == (center / "tls.crt").read_bytes()
    capsys.readouterr()
    bad = [
        "center",
        "enroll-terminal",
        "t 42",
        "--dir",
        str(center),
        "--store",
        "店",
        "--out",
        str(tmp_path / "x"),
    ]
    assert main(bad) == 1
    assert "terminal ids are 1-32 of A-Z, 0-9 and '-'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
