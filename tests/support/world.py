"""The orders world shared by the end-to-end tests: real authority, center and municipal server
processes over TLS (the dev stack) with one synthetic town, its residents each with a card of their
own, and what the kiosk does around an order (the card's proof of a session, opening a sealed copy).

A test module builds its own ``world`` fixture with :func:`running_world`, on the backends it
parametrises (``request.param``: ``sqlite`` or ``postgresql``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from center.authority.keys import generate_key
from center.client import CenterClient
from center.enrolment import EnrolledTerminal
from center.jpki_verify import find_issuer
from center.messages import CopyResponse
from center.municipal import service as municipal_service
from center.municipal.holder_proof import HolderProof
from center.municipal.records import RecordStore
from center.protocol import resident_binding
from center.signing import unsealed_b64url
from center.store.schema_versions import make_engine
from devtools.stack import DevStack, Town
from devtools.synthetic import Person
from documents import Binding, OpenedDocument, TrustedKey, TrustList, open_sealed
from support.backend_stack import backend_stack

CODE = "131016"
SEAL = {"certificate_type": "seal_registration", "copies": 1, "options": {}}
HOUSEHOLD = {"certificate_type": "resident_record", "copies": 1, "options": {"head_and_relationship": True}}
_keys = itertools.count()
#: which of a pool's unused persons a test wants, read in the town's records
Pick = Callable[[RecordStore, Sequence[Person]], Person]


@dataclass(frozen=True)
class Resident:
    resident_id: int
    name: str
    key: rsa.RSAPrivateKey
    certificate: bytes  # DER

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    @property
    def serial(self) -> int:
        """The card certificate's serial (what the municipality maps to the resident)."""
        return x509.load_der_x509_certificate(self.certificate).serial_number


@dataclass
class World:
    stack: DevStack
    town: Town
    trust: TrustList
    keys: list[rsa.RSAPrivateKey]
    used: set[int]

    def resident(self, pool: str = "ordinary", *, canary: bool = False, pick: Pick | None = None) -> Resident:
        """A resident of the pool not used yet, with a card of their own (linked in the town).
        ``canary``: a card whose serial is distinctive to search for (ten decimal digits from
        2,000,000,000 up, eight hex digits: no timestamp, count or id of the stack looks like it).
        ``pick``: which of the pool's unused persons, read in the town's records (else the first)."""
        unused = [p for p in getattr(self.town.people, pool) if p.resident_id not in self.used]
        if pick is None:
            person = unused[0]
        else:
            engine = make_engine(self.town.database_url)
            try:
                with engine.connect() as connection:
                    person = pick(RecordStore(connection), unused)
            finally:
                engine.dispose()
        self.used.add(person.resident_id)
        key = self.keys[next(_keys) % len(self.keys)]
        with self.stack.authority() as authority:
            while True:
                certificate = authority.issue_user_auth(
                    key.public_key(), birth_date=dt.date(1980, 4, 1), municipality=CODE
                )
                if not canary or certificate.serial_number >= 2_000_000_000:
                    break
        self.town.link_card(certificate.serial_number, person.resident_id)
        return Resident(
            person.resident_id,
            self.town.name_of(person.resident_id),
            key,
            certificate.public_bytes(serialization.Encoding.DER),
        )

    def terminal(self, terminal_id: str) -> tuple[EnrolledTerminal, CenterClient]:
        terminal = self.stack.enroll(terminal_id)
        return terminal, self.stack.client(terminal)


def running_world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    households: int,
    **options: Any,
) -> Iterator[World]:
    """A stack with one town on the backend ``request.param``, always open (:func:`backend_stack`:
    on PostgreSQL the center runs in topology ``multi``; ``options`` go to :func:`start_stack`)."""
    towns = {CODE: ("千代田区", households)}
    with backend_stack(request, tmp_path_factory, name, towns=towns, **options) as stack:
        town = stack.towns[CODE]
        published = TrustedKey.from_json(
            json.loads((town.directory / municipal_service.PUBLIC_KEY_FILE).read_text())
        )
        yield World(stack, town, TrustList([published]), [generate_key() for _ in range(3)], set())


def authenticate(world: World, client: CenterClient, resident: Resident) -> str:
    """What the kiosk does before an order: a session, the card's proof of it."""
    world.stack.wait_until_open(client)
    session = client.open_session()
    binding = resident_binding(session.session_id, client.terminal.terminal_id, session.challenge)
    client.authenticate_resident(session.session_id, resident.certificate, resident.sign(binding))
    return session.session_id


def opened(
    world: World,
    copy: CopyResponse,
    terminal: EnrolledTerminal,
    order_id: str,
    session_id: str,
    resident: Resident,
) -> OpenedDocument:
    """The kiosk's check before printing: its own session's binding, or nothing is printed."""
    expected = Binding(order_id, session_id, terminal.terminal_id, Binding.holder_hash(resident.certificate))
    return open_sealed(
        unsealed_b64url(copy.sealed),
        terminal_id=terminal.terminal_id,
        terminal_key=terminal.key,
        trust=world.trust,
        expected=expected,
    )


def holder_proof(world: World, resident: Resident, session_id: str, terminal_id: str) -> dict[str, str]:
    """The card's proof in a session as the center relays it to the municipality (``holder_proof``
    of an issue request): the card's certificate and signature over the session's binding, and the
    stack's authority's OCSP answer about the certificate."""
    challenge = secrets.token_bytes(32)
    certificate = x509.load_der_x509_certificate(resident.certificate)
    anchors = [
        x509.load_pem_x509_certificate(path.read_bytes())
        for path in (world.stack.authority_dir / "ca").glob("user-auth-*.crt")
    ]
    question = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, find_issuer(certificate, anchors), hashes.SHA1())
        .build()
    )
    with world.stack.authority() as authority:
        answer = authority.ocsp_response(question.public_bytes(serialization.Encoding.DER))
    return HolderProof(
        resident.certificate,
        resident.sign(resident_binding(session_id, terminal_id, challenge)),
        challenge,
        answer,
    ).to_json()
