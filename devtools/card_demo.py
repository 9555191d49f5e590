"""``koufu-dev demo`` (``make demo``): one resident's card step on an emulated card, through pcscd.

A fresh card is personalised by the JPKI test authority, inserted into pcscd's vpcd virtual
reader, found by the kiosk's PC/SC adapter, read, unlocked with the PIN and asked to sign a
challenge; the signature and the certificate chain are then verified as the center would.
"""

from __future__ import annotations

import argparse
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from center.authority.ca import TestAuthority
from hardware.card.holder import HolderAuthentication
from hardware.card.pcsc import PcscReader
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.cli import host_port
from hardware.cardsim.pcscd import VPCD_READER, ensure_pcscd
from hardware.cardsim.vpcd_link import DEFAULT_HOST, DEFAULT_PORT, VpcdLink
from koufu.cards import issue_card


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="card demo: emulated card, pcscd, PIN, signature")
    demo.add_argument("--workdir", type=Path, default=Path("var/demo"))
    demo.add_argument("--pin", default="1234", help="the PIN to type (the card's is 1234)")
    demo.add_argument(
        "--vpcd",
        default=f"{DEFAULT_HOST}:{DEFAULT_PORT}",
        metavar="HOST:PORT",
        help="vpcd slot to insert the card into",
    )
    demo.add_argument("--reader", default=VPCD_READER, help="PC/SC reader name (or its start)")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    card_path = workdir / "card.json"
    issue_card(card_path, authority_dir=workdir / "authority")
    authority = TestAuthority.load_or_create(workdir / "authority")
    print(f"1. personalised an emulated My Number Card: {card_path}")

    daemon = ensure_pcscd()
    host, port = host_port(args.vpcd)
    link = VpcdLink(VirtualCard.open(card_path), host, port)
    try:
        reader = PcscReader.matching(args.reader)
        link.attach()
        connection = reader.wait_for_card(timeout=10.0)
        if connection is None:
            print("the card did not appear in the reader")
            return 1
        print(f"2. card placed on {reader.name!r}")
        with connection:
            started = time.perf_counter()
            auth = HolderAuthentication(connection)
            reading = auth.read()
            assert reading.certificate is not None
            print(
                f"3. user-authentication certificate serial {reading.certificate.serial_number}, "
                f"{reading.tries_left} PIN tries left"
            )
            challenge = secrets.token_bytes(32)
            proof = auth.prove(PinBuffer.of(USER_AUTH_PIN, args.pin), challenge)
            elapsed = time.perf_counter() - started
            commands = auth.traffic.commands
            auth.finish()
            print(
                f"4. PIN verified on the card, challenge signed: {commands} APDUs, "
                f"{elapsed * 1000:.0f} ms; card logged out and reset"
            )
            proof.certificate.public_key.verify(
                proof.signature, challenge, padding.PKCS1v15(), hashes.SHA256()
            )
            proof.certificate.certificate.verify_directly_issued_by(authority.user_auth.certificate)
            print("5. signature verified; certificate issued by the JPKI test CA")
        link.detach()
        reader.wait_for_removal(timeout=5.0)
        print("6. card taken back")
        return 0
    finally:
        link.detach()
        if daemon is not None:
            daemon.terminate()
            daemon.wait(5)
