"""``make bench``: certificates issued per second end to end, beside the cryptography alone.

A whole stack runs as real processes on loopback over TLS, everything on one private PostgreSQL
server: the JPKI authority, the center (topology ``multi``, ``--workers`` processes) and one
municipal issuance server with a synthetic town. Fifty terminals (``--concurrency``), each an
asyncio task with its own keep-alive TLS connection signing every request, each with its own
resident whose card is linked in the town. One operation is what a kiosk does for one copy:

    open a session · the card's proof · place the order (one 印鑑登録証明書) · printed · settled

and the kiosk's own check of the copy (open the sealed document with the terminal's key, verify
the municipality's signature and the binding) before "printed". Each terminal goes again as soon
as it is answered (closed loop). Printed: documents per second, the order call's latency and the
whole operation's (p50/p95/p99), and the CPU time of each party per document.

Beside it, measured in the same run in this process on one core: the cryptography one document
costs when nothing else is done — the municipality's Ed25519 signature and the HPKE sealing to
the terminal, the kiosk's opening and checks, and every request signature and its verification
along the way (terminal ECDSA P-256 ×5, center→municipality Ed25519 ×3, the card's RSA-2048
signature and the center's verification of it). The ratio shows what everything else costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import secrets
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from bench.center_auth import PG_SETTINGS, Connection, Parties, Sample, Terminal, _code, _loop_factory, drive
from bench.sample_copy import sample_copy, signed_with_its_page
from center import bridge_protocol
from center.authority.keys import generate_key
from center.messages import OrderResponse, SessionResponse
from center.protocol import resident_binding
from center.signing import Target, unsealed_b64url
from devtools import postgres as pgserver
from devtools.stack import ALWAYS_OPEN, DevStack, start_stack
from documents import (
    Binding,
    MunicipalKey,
    TrustList,
    b64url_decode,
    b64url_encode,
    open_sealed,
    seal,
)

CODE = "131016"
SEAL = {"certificate_type": "seal_registration", "copies": 1, "options": {}}


@dataclass
class Kiosk:
    """One terminal of the load: its connection, its resident's card, what it trusts."""

    terminal: Terminal
    card_key: rsa.RSAPrivateKey
    certificate_b64: str
    holder_hash: str
    trust: TrustList


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def issue_one(kiosk: Kiosk, sample: Sample, scheduled: float) -> None:
    terminal = kiosk.terminal
    status, answer = await terminal.post("/v1/sessions", b"")
    if status != 201:
        sample.error(_code(status, answer))
        return
    session = SessionResponse.model_validate_json(answer)
    session_id = session.session_id
    binding = resident_binding(session_id, terminal.enrolled.terminal_id, b64url_decode(session.challenge))
    signature = kiosk.card_key.sign(binding, padding.PKCS1v15(), hashes.SHA256())
    proof = json.dumps({"certificate": kiosk.certificate_b64, "signature": b64url_encode(signature)}).encode()
    status, answer = await terminal.post(f"/v1/sessions/{session_id}/resident", proof)
    if status != 200:
        sample.error(_code(status, answer))
        return
    order_body = json.dumps({"idempotency_key": secrets.token_hex(8), "printer": 1, "items": [SEAL]}).encode()
    sent = time.perf_counter()
    status, answer = await terminal.post(f"/v1/sessions/{session_id}/orders", order_body)
    answered = time.perf_counter()
    if status != 201:
        sample.error(_code(status, answer))
        return
    order = OrderResponse.model_validate_json(answer)
    expected = Binding(order.order_id, session_id, terminal.enrolled.terminal_id, kiosk.holder_hash)
    numbers = []
    for copy in order.copies:  # the kiosk's check before printing
        open_sealed(
            unsealed_b64url(copy.sealed),
            terminal_id=terminal.enrolled.terminal_id,
            terminal_key=terminal.enrolled.key,
            trust=kiosk.trust,
            expected=expected,
        )
        numbers.append(copy.issue_number)
    for path, body in (
        (f"/v1/orders/{order.order_id}/printing", None),
        (f"/v1/orders/{order.order_id}/printed", {"issue_numbers": numbers}),
        (f"/v1/orders/{order.order_id}/settle", {"paid": order.fee}),
    ):
        status, answer = await terminal.post(path, b"" if body is None else json.dumps(body).encode())
        if status != 200:
            sample.error(_code(status, answer))
            return
    finished = time.perf_counter()
    sample.requests.append(answered - sent)
    sample.operations.append(finished - scheduled)


def crypto_alone(rounds: int) -> dict[str, float]:
    """Median seconds of each cryptographic step one document costs, on one core."""
    municipal = MunicipalKey.generate(CODE)
    trust = TrustList([municipal.trusted()])
    terminal = ec.generate_private_key(ec.SECP256R1())
    center = ed25519.Ed25519PrivateKey.generate()
    card = generate_key()
    now = dt.datetime.now(dt.UTC)
    document, binding = sample_copy(now)
    body = b'{"order_id": "O-1"}' * 20
    sealed = seal(signed_with_its_page(document, municipal), "T-0001", terminal.public_key())
    message = resident_binding("S-1", "T-0001", b"\x00" * 32)
    headers = {
        k.lower(): v
        for k, v in bridge_protocol.sign(center, CODE, "POST", "/v1/issue", body, now=now).items()
    }
    keys = {bridge_protocol.key_id(center.public_key()): center.public_key()}
    steps: dict[str, Callable[[], object]] = {
        "municipality: sign + seal": lambda: seal(
            signed_with_its_page(document, municipal), "T-0001", terminal.public_key()
        ),
        "kiosk: open + verify + bind": lambda: open_sealed(
            sealed, terminal_id="T-0001", terminal_key=terminal, trust=trust, expected=binding, now=now
        ),
        "terminal requests: ECDSA sign+verify x5": lambda: [
            terminal.public_key().verify(
                terminal.sign(body, ec.ECDSA(hashes.SHA256())), body, ec.ECDSA(hashes.SHA256())
            )
            for _ in range(5)
        ],
        "center->municipality: Ed25519 sign+verify x3": lambda: [
            (
                bridge_protocol.sign(center, CODE, "POST", "/v1/issue", body, now=now),
                bridge_protocol.verify(headers, keys, CODE, Target("POST", "/v1/issue"), body, now),
            )
            for _ in range(3)
        ],
        "card: RSA-2048 sign + verify": lambda: card.public_key().verify(
            card.sign(message, padding.PKCS1v15(), hashes.SHA256()),
            message,
            padding.PKCS1v15(),
            hashes.SHA256(),
        ),
    }
    medians = {}
    for name, step in steps.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        medians[name] = statistics.median(times)
    return medians


def _kiosks(stack: DevStack, count: int, context: ssl.SSLContext) -> list[Kiosk]:
    town = stack.towns[CODE]
    trust = TrustList.from_json(
        {"format": "koufu-trust/1", "keys": [json.loads((town.directory / "public-key.json").read_text())]}
    )
    card_keys = [generate_key() for _ in range(4)]
    kiosks = []
    with stack.authority() as authority:
        for index in range(count):
            person = town.people.ordinary[index]
            key = card_keys[index % len(card_keys)]
            certificate = authority.issue_user_auth(
                key.public_key(), birth_date=dt.date(1980, 4, 1), municipality=CODE
            )
            town.link_card(certificate.serial_number, person.resident_id)
            der = certificate.public_bytes(serialization.Encoding.DER)
            enrolled = stack.enroll(f"T-{3000 + index}")
            kiosks.append(
                Kiosk(
                    Terminal(enrolled, Connection(stack.center_url, context)),
                    key,
                    b64url_encode(der),
                    Binding.holder_hash(der),
                    trust,
                )
            )
    return kiosks


def report(args: argparse.Namespace, version: str, sample: Sample, steps: dict[str, float]) -> None:
    documents = len(sample.operations)
    print(
        f"\ncertificate issuance end to end: {args.concurrency} terminals, {args.duration:.0f} s closed "
        f"loop; center ({args.workers} workers), municipality, authority, PostgreSQL {version}: 2 cores"
    )
    print("one operation = session + card proof + order (1 copy, sealed) + kiosk's check + printed + settled")
    errors = sum(sample.errors.values())
    print(
        f"documents issued: {documents} in {sample.seconds:.1f} s = {documents / sample.seconds:.1f} /s; "
        f"errors: {errors} {dict(sample.errors) if errors else ''}"
    )
    for label, values in (("order call", sample.requests), ("whole operation", sample.operations)):
        p50, p95, p99 = (1000 * percentile(values, q) for q in (0.5, 0.95, 0.99))
        print(f"  {label:16} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms")
    busy = sum(sample.cpu.values())
    if documents:
        shares = ", ".join(f"{name} {1000 * cpu / documents:.2f}" for name, cpu in sample.cpu.items())
        print(f"  CPU per document (ms): {shares}; total {1000 * busy / documents:.2f}")
    total = sum(steps.values())
    print(f"\ncryptography alone, one core, median of {args.crypto_rounds} (this process, same run):")
    for name, seconds in steps.items():
        print(f"  {name:44} {1000 * seconds:7.3f} ms")
    print(f"  {'all of one document':44} {1000 * total:7.3f} ms -> {1 / total:.0f} documents/s per core")
    if documents:
        print(f"  end to end uses {busy / documents / total:.1f}x the CPU of the cryptography alone")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.issuance", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=50, help="simultaneous terminals")
    parser.add_argument("--workers", type=int, default=2, help="center worker processes")
    parser.add_argument("--crypto-rounds", type=int, default=300)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="koufu-bench-issuance-") as tmp,
        contextlib.ExitStack() as cleanup,
    ):
        database = cleanup.enter_context(pgserver.running_server(settings=PG_SETTINGS))
        urls = {
            name: database.url(database.create_database(name)) for name in ("center", "authority", "town")
        }
        stack = start_stack(
            Path(tmp),
            center_db=urls["center"],
            authority_db=urls["authority"],
            topology="multi",
            workers=args.workers,
            towns={CODE: ("千代田区", max(400, 2 * args.concurrency))},
            town_dbs={CODE: urls["town"]},
        )
        cleanup.callback(stack.stop)
        stack.load_calendar(ALWAYS_OPEN)
        context = ssl.create_default_context(cafile=stack.center_tls)
        kiosks = _kiosks(stack, args.concurrency, context)
        town = stack.towns[CODE]
        assert town.process is not None
        center_pids = [p.pid for p in stack.processes[1:] if p is not town.process]
        parties = Parties(
            {
                "center": center_pids,
                "municipality": [town.process.pid],
                "authority": [stack.processes[0].pid],
                "postgresql": [database.process.pid],
            }
        )
        by_terminal = {id(kiosk.terminal): kiosk for kiosk in kiosks}

        async def operation(terminal: Terminal, sample: Sample, scheduled: float) -> None:
            await issue_one(by_terminal[id(terminal)], sample, scheduled)

        async def run() -> tuple[Sample, Sample]:
            terminals = [kiosk.terminal for kiosk in kiosks]
            warm = await drive(terminals, operation, args.warmup, parties)
            measured = await drive(terminals, operation, args.duration, parties)
            for terminal in terminals:
                await terminal.http.close()
            return warm, measured

        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            _warm, sample = runner.run(run())
        report(args, database.version, sample, crypto_alone(args.crypto_rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
