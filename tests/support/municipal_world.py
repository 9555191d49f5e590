"""A municipality at work for the tests of domicile issuance and of the holder's own record: its
real HTTP application (``center.municipal.http``) served over TLS on loopback by uvicorn in a
thread, on one injected clock the test moves, with a synthetic town of residents, two trusted
terminals at two stores, requests signed by a center key the municipality trusts, real cards
from the JPKI test authority, and family registers of people who live elsewhere (本籍 here) for
usage registrations (本籍地の利用登録).

Everything runs at the world's clock (:class:`WorldClock`), never the machine's: the
municipality's directory, trust, authority and terminals are made at its start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center import bridge_protocol
from center.municipal import service
from center.municipal.domicile_match import Applicant
from center.municipal.http import create_app
from center.municipal.registrations import Registration, Registrations
from center.municipal.settings import typical
from center.terminals import TerminalCA
from devtools.authority import card_key
from devtools.card_proofs import Card, Cards
from devtools.synthetic import Population, generate
from documents import JST, Binding, TrustList, b64url_encode
from documents.keys import TrustedKey
from support.family_registers import Entry, write_register
from support.threaded_server import loopback_socket, served_in_thread

CODE = "131016"
ELSEWHERE = "132012"  # where the registered holders live (their cards' municipality)
BIRTH = dt.date(1980, 4, 1)  # the test authority's cards' holders


class WorldClock:
    """The one clock of a test world (the municipality's, the center's signatures, the proofs)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass(frozen=True)
class Terminal:
    terminal_id: str
    store: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Outsider:
    """A person who lives elsewhere, in a register here: what they would apply with."""

    applicant: Applicant
    domicile: str
    head: str
    register_id: int
    position: int

    @property
    def name(self) -> str:
        return f"{self.applicant.family_name}　{self.applicant.given_name}"


# register id: (本籍, 筆頭者, members as (family name, given name, birth date, sex, 続柄))
REGISTERS: dict[int, tuple[str, str, list[tuple[str, str, dt.date, str, str]]]] = {
    9001: (
        "東京都千代田区九段南一丁目２番地",
        "試験　一郎",
        [
            ("試験", "一郎", dt.date(1950, 5, 1), "male", "長男"),
            ("試験", "花子", BIRTH, "female", "長女"),
            ("試験", "次郎", dt.date(1982, 8, 8), "male", "二男"),
        ],
    ),
    9002: (
        "東京都千代田区一番町３番地",
        "見本　三郎",
        [
            ("見本", "三郎", dt.date(1975, 1, 20), "male", "三男"),
            ("見本", "桜", dt.date(1977, 3, 3), "female", "妻"),
        ],
    ),
    9003: (
        "東京都千代田区三番町５番地",
        "例示　五郎",
        [
            ("例示", "五郎", dt.date(1960, 9, 9), "male", "長男"),
            ("例示", "葵", dt.date(1990, 12, 1), "female", "長女"),
        ],
    ),
}


def outsider(register_id: int, position: int) -> Outsider:
    domicile, head, members = REGISTERS[register_id]
    family, given, birth, sex, _ = members[position - 1]
    return Outsider(Applicant(family, given, birth, sex), domicile, head, register_id, position)


def _write_registers(connection: sa.Connection) -> None:
    for register_id, (domicile, head, members) in REGISTERS.items():
        write_register(
            connection,
            register_id,
            domicile=domicile,
            head=head,
            entries=[Entry(*member, born=True) for member in members],
            compiled_on=dt.date(2005, 6, 1),
            address="東京都八王子市元本郷町三丁目２４番１号",
        )


@dataclass
class World:
    clock: WorldClock
    client: httpx.Client
    server: service.MunicipalServer
    center_key: ed25519.Ed25519PrivateKey
    people: Population
    trust: TrustList
    terminals: tuple[Terminal, Terminal]
    cards: Cards

    @property
    def engine(self) -> sa.Engine:
        return self.server.engine

    @property
    def registrations(self) -> Registrations:
        return Registrations(self.engine, self.clock)

    def post(self, path: str, document: Any, *, body: bytes | None = None) -> httpx.Response:
        """A request signed by the center at the world's time."""
        content = json.dumps(document).encode() if body is None else body
        headers = bridge_protocol.sign(self.center_key, CODE, "POST", path, content, now=self.clock())
        headers["Content-Type"] = "application/json"
        return self.client.post(path, content=content, headers=headers)

    # -- cards -----------------------------------------------------------------------------------

    def resident_card(self, serial: int | None) -> Card:
        """The card of the resident whose card the town links by ``serial``."""
        return self.cards.card(serial, self.engine, municipality=CODE)

    def outside_card(self) -> Card:
        """A card of someone who lives elsewhere (linked to nobody here)."""
        return self.cards.card(None, municipality=ELSEWHERE)

    def renewed(self, card: Card, key: int) -> Card:
        """The card that renews ``card`` (更新: new key, new serial, the old one superseded)."""
        new_key = card_key(key)
        certificate = self.cards.authority.renew(
            card.certificate.serial_number, new_key.public_key(), birth_date=BIRTH, now=self.clock()
        )
        return Card(new_key, certificate)

    def register(self, card: Card, person: Outsider, *, approve: bool = True) -> Registration:
        """A usage registration applied for with ``card`` (approved by the staff at once)."""
        applied = self.registrations.apply(
            person.applicant, person.domicile, person.head, card.certificate.serial_number
        )
        return self.registrations.approve(applied.id, "窓口　担当A") if approve else applied

    # -- what the center sends -------------------------------------------------------------------

    def session(self, card: Card, session_id: str, terminal: Terminal) -> dict[str, Any]:
        """The fields of a request about ``card``'s holder in session ``session_id``."""
        proof = self.cards.proof(card, session_id, terminal.terminal_id, at=self.clock())
        return {
            "session_id": session_id,
            "terminal_id": terminal.terminal_id,
            "holder_proof": proof.to_json(),
            "terminal_certificate": b64url_encode(terminal.der),
        }

    def issue(
        self, card: Card, order_id: str, terminal: Terminal, *items: tuple[str, dict[str, Any], int]
    ) -> httpx.Response:
        return self.post(
            "/v1/issue",
            {
                **self.session(card, f"S-{order_id}", terminal),
                "order_id": order_id,
                "store": terminal.store,
                "printer": 1,
                "items": [
                    {"certificate_type": kind, "copies": copies, "options": options}
                    for kind, options, copies in items
                ],
            },
        )

    def binding(self, card: Card, order_id: str, terminal: Terminal) -> Binding:
        return Binding(order_id, f"S-{order_id}", terminal.terminal_id, card.holder_hash)


def _terminal(ca: TerminalCA, terminal_id: str, store: str, now: dt.datetime) -> Terminal:
    key = ec.generate_private_key(ec.SECP256R1())
    return Terminal(terminal_id, store, key, ca.issue(terminal_id, key.public_key(), now=now))


@contextlib.contextmanager
def municipal_world(root: Path, start: dt.datetime) -> Iterator[World]:
    """The world at ``start`` (the test moves its clock on), until the block ends."""
    clock = WorldClock(start)
    directory = root / CODE
    center_key = ed25519.Ed25519PrivateKey.generate()
    ca = TerminalCA.load_or_create(root / "terminal-ca", now=clock.now)
    terminals = (
        _terminal(ca, "T-0001", "千代田神田店", clock.now),
        _terminal(ca, "T-0002", "千代田九段店", clock.now),
    )
    cards = Cards.open(root / "authority", clock.now)
    settings = typical(CODE, "千代田区", "Chiyoda City", "東京都", "千代田区長　山田　太郎")
    service.initialise(
        directory,
        settings,
        center_keys=[center_key.public_key()],
        terminal_cas=[ca.certificate],
        jpki_anchors=cards.anchors,
        now=clock.now,
    )
    server = service.MunicipalServer.open(directory, clock=clock)
    with server.engine.begin() as connection:
        people = generate(
            connection,
            municipality=CODE,
            name="千代田区",
            prefecture="東京都",
            households=60,
            seed=21,
            today=clock.now.astimezone(JST).date(),
            first_serial=7000,
        )
        _write_registers(connection)
    published = TrustedKey.from_json(json.loads((directory / service.PUBLIC_KEY_FILE).read_text()))
    sock = loopback_socket()
    port = sock.getsockname()[1]
    context = ssl.create_default_context(cafile=str(directory / "tls.crt"))
    tls = directory / "tls.crt", directory / "tls.key"
    try:  # the application's lifespan closes the server
        with (
            served_in_thread(create_app(server), sock, *tls, what="municipal server", startup=30),
            httpx.Client(base_url=f"https://localhost:{port}", verify=context, timeout=30) as client,
        ):
            yield World(clock, client, server, center_key, people, TrustList([published]), terminals, cards)
    finally:
        cards.close()
