"""``koufu card attach`` and ``koufu card status``: put emulated cards into readers, show their state.

``koufu card issue`` is wired in ``koufu/card_cli.py``, beside the authority that issues the
certificates; it adds these actions after its own.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from hardware.cardsim.card import VirtualCard
from hardware.cardsim.state import CardStore


def register(actions: Any) -> None:
    """Add ``attach`` and ``status`` to the actions of ``koufu card``."""
    attach = actions.add_parser("attach", help="insert the card into a reader until interrupted")
    attach.add_argument("card", type=Path)
    where = attach.add_mutually_exclusive_group(required=True)
    where.add_argument("--vpcd", metavar="HOST:PORT", help="pcscd's vpcd driver")
    where.add_argument("--nfc", metavar="udp:HOST:PORT", help="nfcpy UDP driver, as Type B card")
    attach.add_argument("--sign-delay", type=float, default=0.0, help="simulated on-chip RSA time in seconds")
    attach.set_defaults(run=_attach)

    status = actions.add_parser("status", help="label, certificate serial and PIN tries of a card")
    status.add_argument("card", type=Path)
    status.set_defaults(run=_status)


def _attach(args: argparse.Namespace) -> int:
    card = VirtualCard.open(args.card, sign_delay=args.sign_delay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if args.vpcd:
            from hardware.cardsim.vpcd_link import run_vpcd

            host, port = host_port(args.vpcd)
            print(f"card attached to vpcd at {host}:{port} (Ctrl-C removes it)", flush=True)
            run_vpcd(card, host, port, stop)
        else:
            from hardware.cardsim.nfc_link import run_nfc

            print(f"card listening as ISO 14443 Type B on {args.nfc} (Ctrl-C removes it)", flush=True)
            run_nfc(card, args.nfc, stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _status(args: argparse.Namespace) -> int:
    from cryptography import x509

    from hardware.cardsim.filesystem import POLICIES

    state = CardStore(args.card).load(POLICIES)
    cert = x509.load_der_x509_certificate(state.auth_cert)
    print(f"label: {state.label}")
    print(f"user-authentication certificate serial: {cert.serial_number}")
    print(f"valid until: {cert.not_valid_after_utc:%Y-%m-%d}")
    for key, ref in state.pins.items():
        flag = " (blocked)" if ref.blocked else ""
        print(f"{ref.policy.name} [{key}]: {ref.tries_left}/{ref.policy.max_tries} tries{flag}")
    return 0


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)
