"""Cards and their proofs for the municipality outside a running stack (its own tests, the
specimens): a JPKI authority in-process (the test authority, cached CA keys), a
user-authentication certificate per resident linked to them in the town, the card's signature
over a session's binding, and the authority's signed OCSP answer — what the center relays to the
municipality (``holder_proof``), made the way a card and the center make it, so the municipality
checks a real proof."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from center.authority.service import AuthorityService
from center.jpki_verify import find_issuer
from center.municipal import schema
from center.municipal.holder_proof import HolderProof
from center.protocol import resident_binding
from devtools.authority import card_key, open_test_authority
from documents import Binding


@dataclass
class Card:
    """A resident's card: its key and user-authentication certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def holder_hash(self) -> str:
        """What copies for this card's holder are bound to."""
        return Binding.holder_hash(self.der)


@dataclass
class Cards:
    """The residents' cards of one synthetic town, from one test authority, at the tests' ``now``."""

    authority: AuthorityService
    anchors: list[x509.Certificate]  # the user-authentication CA, every generation
    now: dt.datetime
    # the signing CA, every generation (a municipality's jpki-signing-anchors.pem)
    signing_anchors: list[x509.Certificate] = field(default_factory=list)
    _cards: dict[int, Card] = field(default_factory=dict)
    _keys: itertools.cycle[int] = field(default_factory=lambda: itertools.cycle(range(4)))

    @classmethod
    def open(cls, directory: Path, now: dt.datetime, *, foreign: bool = False) -> Cards:
        """The test authority in ``directory`` (``foreign``: with CA keys of its own, not the
        cached ones every test authority shares: an authority nobody trusts)."""
        if foreign:
            authority = AuthorityService.open(directory, now=now, generations=[now.year], clock=lambda: now)
        else:
            authority = open_test_authority(directory, now=now, clock=lambda: now)
        anchors, signing = (
            [
                x509.load_pem_x509_certificate(path.read_bytes())
                for path in sorted((directory / "ca").glob(f"{kind}-*.crt"))
            ]
            for kind in ("user-auth", "signing")
        )
        return cls(authority, anchors, now, signing)

    def close(self) -> None:
        self.authority.close()

    def card(self, linked_serial: int | None, engine: sa.Engine | None = None, *, municipality: str) -> Card:
        """The card of the resident whose (synthetic) certificate serial ``linked_serial`` the
        town of ``engine`` links: a real certificate issued once, and the town's link moved to
        its serial (when it was linked, and so whether it is usable, stay as they were). A serial
        the town does not link, or ``None``: a card the town does not know."""
        if linked_serial is not None and linked_serial in self._cards:
            return self._cards[linked_serial]
        key = card_key(next(self._keys))
        certificate = self.authority.issue_user_auth(
            key.public_key(), birth_date=dt.date(1980, 4, 1), municipality=municipality, now=self.now
        )
        card = Card(key, certificate)
        if linked_serial is not None:
            if engine is not None:
                with engine.begin() as connection:
                    links = schema.card_links.c
                    connection.execute(
                        schema.card_links.update()
                        .where(links.certificate_serial == linked_serial)
                        .values(certificate_serial=certificate.serial_number)
                    )
            self._cards[linked_serial] = card
        return card

    def proof(
        self,
        card: Card,
        session_id: str,
        terminal_id: str,
        challenge: bytes = b"c" * 32,
        *,
        at: dt.datetime | None = None,
    ) -> HolderProof:
        """What the center relays after ``card`` proved its holder in this session (at ``at``:
        the authority's answer is as fresh as then)."""
        signature = card.key.sign(
            resident_binding(session_id, terminal_id, challenge), padding.PKCS1v15(), hashes.SHA256()
        )
        return HolderProof(card.der, signature, challenge, self.revocation(card.certificate, at or self.now))

    def revocation(self, certificate: x509.Certificate, at: dt.datetime) -> bytes:
        """The authority's OCSP answer about ``certificate`` at ``at``."""
        issuer = find_issuer(certificate, self.anchors)
        question = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1()).build()
        return self.authority.ocsp_response(question.public_bytes(serialization.Encoding.DER), now=at)
