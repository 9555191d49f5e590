"""``python -m bench.request_signing``: the cost of one request signature and of its check, on
both links, the RFC 9421 fields (``center.signing``) beside the scheme they replaced.

The old scheme (``X-Koufu-Timestamp`` in milliseconds, ``X-Koufu-Nonce``, ``X-Koufu-Signature``
over one canonical text: context line, scope lines, METHOD, path, timestamp, nonce, hex SHA-256 of
the body; ECDSA in DER) is written out again here, for the comparison only: nothing else uses it.

A signature is what a client adds to a request (the headers, from the key, method, path and body);
a check is what the receiver does without its database: parse the fields, the body's digest, the
profile and the clock, build the text or signature base, verify with the signer's public key.
Each round runs old and new one after the other, so drift hits both alike. Median and p95 in
microseconds; figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from bench.timing import median_p95, run_times
from center import bridge_protocol
from center.protocol import TERMINAL_REQUESTS, sign_request
from center.signing import Target, field_values

BODY = b'{"certificate": "' + b"A" * 1600 + b'", "signature": "' + b"B" * 344 + b'"}'  # a card proof's size
PATH = "/v1/sessions/0b5c6b1e-1d0a-4a4f-9e3c-8f1d2a3b4c5d/resident"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def old_text(
    context: str, scope: tuple[str, ...], path: str, timestamp_ms: int, nonce: str, body: bytes
) -> bytes:
    lines = [context, *scope, "POST", path, str(timestamp_ms), nonce, hashlib.sha256(body).hexdigest()]
    return "\n".join(lines).encode("ascii")


def old_sign(
    sign: Callable[[bytes], bytes], context: str, signer_header: str, scope: tuple[str, ...], signer: str
) -> dict[str, str]:
    timestamp_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    nonce = _b64url(secrets.token_bytes(16))
    signature = sign(old_text(context, scope, PATH, timestamp_ms, nonce, BODY))
    return {
        signer_header: signer,
        "X-Koufu-Timestamp": str(timestamp_ms),
        "X-Koufu-Nonce": nonce,
        "X-Koufu-Signature": _b64url(signature),
    }


def old_check(
    headers: dict[str, str],
    check: Callable[[bytes, bytes], None],
    context: str,
    scope: tuple[str, ...],
    now: dt.datetime,
) -> None:
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp_ms = int(lowered["x-koufu-timestamp"])
    nonce = lowered["x-koufu-nonce"]
    assert len(_unb64url(nonce)) == 16
    sent = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC)
    assert abs(sent - now) <= dt.timedelta(seconds=120)
    check(_unb64url(lowered["x-koufu-signature"]), old_text(context, scope, PATH, timestamp_ms, nonce, BODY))


def figures(times: list[float]) -> str:
    median, p95 = median_p95(times)
    return f"median {median:7.1f} µs   p95 {p95:7.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400, help="runs of each step per round (default 400)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, old and new in each (default 5)")
    args = parser.parse_args()

    terminal = ec.generate_private_key(ec.SECP256R1())
    center = ed25519.Ed25519PrivateKey.generate()
    center_id = bridge_protocol.key_id(center.public_key())
    trusted = {center_id: center.public_key()}
    target = Target("POST", PATH)
    ecdsa = ec.ECDSA(hashes.SHA256())

    def old_terminal_sign() -> dict[str, str]:
        return old_sign(
            lambda text: terminal.sign(text, ecdsa), "koufu-request/1", "X-Koufu-Terminal", (), "T-0001"
        )

    def old_bridge_sign() -> dict[str, str]:
        return old_sign(center.sign, "koufu-center-request/1", "X-Koufu-Center-Key", ("131016",), center_id)

    def new_terminal_sign() -> dict[str, str]:
        return sign_request(terminal, "T-0001", "POST", PATH, BODY).as_dict()

    def new_bridge_sign() -> dict[str, str]:
        return bridge_protocol.sign(center, "131016", "POST", PATH, BODY)

    old_terminal, old_bridge = old_terminal_sign(), old_bridge_sign()
    new_terminal, new_bridge = new_terminal_sign(), new_bridge_sign()

    def old_terminal_check() -> None:
        now = dt.datetime.now(dt.UTC)
        old_check(
            old_terminal, lambda s, t: terminal.public_key().verify(s, t, ecdsa), "koufu-request/1", (), now
        )

    def old_bridge_check() -> None:
        now = dt.datetime.now(dt.UTC)
        old_check(old_bridge, center.public_key().verify, "koufu-center-request/1", ("131016",), now)

    def new_terminal_check() -> None:
        credentials = TERMINAL_REQUESTS.credentials(field_values(new_terminal.items()), BODY)
        checked = TERMINAL_REQUESTS.check(credentials, target, dt.datetime.now(dt.UTC))
        assert checked.verifies_with(terminal.public_key())

    def new_bridge_check() -> None:
        headers = field_values(new_bridge.items())
        bridge_protocol.verify(headers, trusted, "131016", target, BODY, dt.datetime.now(dt.UTC))

    steps: dict[str, Callable[[], Any]] = {
        "terminal -> center, sign   (ECDSA P-256)  old": old_terminal_sign,
        "terminal -> center, sign   (ECDSA P-256)  new": new_terminal_sign,
        "terminal -> center, check  (ECDSA P-256)  old": old_terminal_check,
        "terminal -> center, check  (ECDSA P-256)  new": new_terminal_check,
        "center -> municipality, sign  (Ed25519)   old": old_bridge_sign,
        "center -> municipality, sign  (Ed25519)   new": new_bridge_sign,
        "center -> municipality, check (Ed25519)   old": old_bridge_check,
        "center -> municipality, check (Ed25519)   new": new_bridge_check,
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            times[name] += run_times(step, args.runs)
    print(f"request signing, one request ({len(BODY)} bytes of body), {args.rounds} × {args.runs} runs each:")
    for name in steps:
        print(f"  {name}   {figures(times[name])}")


if __name__ == "__main__":
    main()
