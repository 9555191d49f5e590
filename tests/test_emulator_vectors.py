"""The emulator against APDU vectors written from the reference (tests/vectors/*.apdu)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hardware.cardsim.card import VirtualCard

VECTORS = Path(__file__).parent / "vectors"


@dataclass(frozen=True)
class Step:
    line: int
    command: bytes | None  # None: power-cycle the card
    response: bytes = b""
    any_data: bool = False


def load_steps(path: Path) -> list[Step]:
    steps: list[Step] = []
    pending: tuple[int, bytes] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if text == "power":
            steps.append(Step(number, None))
        elif text.startswith(">"):
            pending = (number, bytes.fromhex(text[1:]))
        elif text.startswith("<"):
            assert pending is not None, f"{path.name}:{number}: response without command"
            body = text[1:].strip()
            any_data = body.startswith("*")
            expected = bytes.fromhex(body.lstrip("*"))
            steps.append(Step(pending[0], pending[1], expected, any_data))
            pending = None
        else:
            raise AssertionError(f"{path.name}:{number}: cannot parse {raw!r}")
    assert pending is None, f"{path.name}: last command has no response"
    return steps


@pytest.mark.parametrize("vector", sorted(VECTORS.glob("*.apdu")), ids=lambda p: p.stem)
def test_emulator_answers_every_vector(vector: Path, card: VirtualCard) -> None:
    steps = load_steps(vector)
    assert len(steps) > 20
    for step in steps:
        if step.command is None:
            card.power_off()
            card.power_on()
            continue
        answer = card.process(step.command)
        where = f"{vector.name}:{step.line} {step.command.hex(' ')}"
        if step.any_data:
            assert answer[-2:] == step.response, where
            assert len(answer) > 2, where
        else:
            assert answer == step.response, f"{where}: got {answer.hex(' ')}"
