"""``make bench``: the kiosk's card step against OpenSC, on the same emulated card, same run.

The card sits in pcscd's vpcd reader. Both clients do the equivalent work — select the JPKI
application, read the user-authentication certificate, learn the PIN tries, VERIFY the PIN, sign a
SHA-256 DigestInfo with the user-authentication key — and the card itself counts the APDUs and
bytes it sees. Times are wall-clock per complete step: for the kiosk from SCardConnect to the
signature; for OpenSC the ``pkcs15-tool`` and ``pkcs15-crypt`` runs a shell script would make.
These are figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hardware.card.holder import HolderAuthentication
from hardware.card.pcsc import PcscReader
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.pcscd import VPCD_READER, ensure_pcscd
from hardware.cardsim.tap import CardTap
from hardware.cardsim.vpcd_link import DEFAULT_HOST, DEFAULT_PORT, VpcdLink
from koufu.cards import issue_card

PIN = "1234"
OPENSC_CONF = """app default {
    framework pkcs15 { use_file_caching = no; }
}
"""


@dataclass
class Result:
    name: str
    times: list[float] = field(default_factory=list)
    apdus: list[int] = field(default_factory=list)
    traffic: list[int] = field(default_factory=list)

    def row(self) -> str:
        ms = sorted(t * 1000 for t in self.times)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return (
            f"{self.name:<28} {statistics.median(self.apdus):>6.0f} "
            f"{statistics.median(self.traffic):>8.0f} {statistics.median(ms):>10.1f} "
            f"{p95:>9.1f} {p99:>9.1f}"
        )


def measure(result: Result, card: CardTap, step: Callable[[], None], runs: int) -> None:
    step()  # warm-up, not counted
    for _ in range(runs):
        before = card.snapshot()
        started = time.perf_counter()
        step()
        result.times.append(time.perf_counter() - started)
        after = card.snapshot()
        result.apdus.append(after[0] - before[0])
        result.traffic.append(after[1] - before[1])


def kiosk_step(reader: PcscReader) -> Callable[[], None]:
    def step() -> None:
        connection = reader.wait_for_card(timeout=5.0)
        if connection is None:
            raise RuntimeError("card vanished from the reader")
        try:
            auth = HolderAuthentication(connection)
            auth.read()
            auth.prove(PinBuffer.of(USER_AUTH_PIN, PIN), secrets.token_bytes(32))
        finally:
            connection.close()

    return step


def opensc_step(workdir: Path) -> Callable[[], None]:
    env = dict(os.environ, OPENSC_CONF=str(workdir / "opensc.conf"))
    (workdir / "opensc.conf").write_text(OPENSC_CONF)
    message = workdir / "challenge"

    def run(*argv: str) -> None:
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def step() -> None:
        message.write_bytes(secrets.token_bytes(32))
        run("pkcs15-tool", "--read-certificate", "01", "--list-pins", "--output", str(workdir / "cert.pem"))
        run(
            "pkcs15-crypt",
            "--sign",
            "--key",
            "01",
            "--pkcs1",
            "--sha-256",
            "--pin",
            PIN,
            "--input",
            str(message),
            "--output",
            str(workdir / "signature"),
        )

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="koufu-bench-") as tmp:
        workdir = Path(tmp)
        issue_card(workdir / "card.json", authority_dir=workdir / "authority", pin=PIN)
        card = CardTap(VirtualCard.open(workdir / "card.json"))
        daemon = ensure_pcscd()
        link = VpcdLink(card, DEFAULT_HOST, DEFAULT_PORT)
        try:
            reader = PcscReader.matching(VPCD_READER)
            link.attach()
            if not reader.wait_for_card(timeout=10.0):
                raise RuntimeError("the emulated card did not appear in pcscd")
            kiosk, opensc = Result("kiosk (HolderAuthentication)"), Result("OpenSC pkcs15-tool+crypt")
            for _ in range(2):  # interleave the peers so drift hits both alike
                measure(kiosk, card, kiosk_step(reader), args.runs // 2)
                measure(opensc, card, opensc_step(workdir), args.runs // 2)
        finally:
            link.detach()
            if daemon is not None:
                daemon.terminate()
                daemon.wait(5)
    print(f"card step over pcscd + vpcd, {args.runs} runs each (after one warm-up)")
    print(f"{'client':<28} {'APDUs':>6} {'bytes':>8} {'median ms':>10} {'p95 ms':>9} {'p99 ms':>9}")
    print(kiosk.row())
    print(opensc.row())
    ratio = statistics.median(opensc.times) / statistics.median(kiosk.times)
    print(
        f"kiosk is {ratio:.1f}x faster than OpenSC (median); "
        f"APDUs {statistics.median(kiosk.apdus):.0f} vs {statistics.median(opensc.apdus):.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
