"""Broken and malicious cards for the card client's tests: a real emulated card behind a link that
rewrites chosen answers, and the answers a hypothesis search draws from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from hardware.card.transport import CardConnection
from hardware.cardsim.card import VirtualCard


class TamperedConnection(CardConnection):
    """A real emulated card behind a link that rewrites chosen answers (a hostile card)."""

    def __init__(self, card: VirtualCard, tamper: Callable[[int, bytes, bytes], bytes]) -> None:
        self.card = card
        self.tamper = tamper
        self.sent: list[bytes] = []

    def transceive(self, command: bytes | bytearray) -> bytes:
        command = bytes(command)
        self.sent.append(command)
        return self.tamper(len(self.sent) - 1, command, self.card.process(command))

    def reset(self) -> None:
        self.card.power_on()

    def close(self) -> None:
        pass


def verify_with_data(sent: list[bytes]) -> int:
    return sum(1 for c in sent if len(c) > 5 and c[1] == 0x20)


def hostile(card_path: Path, tamper: Callable[[int, bytes, bytes], bytes]) -> TamperedConnection:
    card = VirtualCard.open(card_path)
    card.power_on()
    return TamperedConnection(card, tamper)


def on_ins(ins: int | tuple[int, ...], answer: bytes) -> Callable[[int, bytes, bytes], bytes]:
    wanted = ins if isinstance(ins, tuple) else (ins,)
    return lambda _i, command, real: answer if command[1] in wanted else real


answers = st.one_of(
    st.binary(max_size=8),
    st.builds(
        lambda d, sw: d + sw,
        st.binary(max_size=600),
        st.sampled_from(
            [
                b"\x90\x00",
                b"\x61\x00",
                b"\x61\x05",
                b"\x6c\x04",
                b"\x63\xc2",
                b"\x69\x84",
                b"\x6a\x82",
                b"\x69\x82",
                b"\x67\x00",
                b"\x62\x82",
            ]
        ),
    ),
)
