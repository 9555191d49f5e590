"""Usage registration applications (本籍地の利用登録申請) made as a kiosk and its card make them, for
the domicile municipality's tests: residents with real cards from the JPKI authority simulator
(a user-authentication certificate and a signing certificate stating their 基本4情報), the card's
proof in a session, the application signed with the card's signing key and sealed to the
municipality's sealing key, and the authority's OCSP answers; and a small set of family registers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from center.authority.issuance import SigningFacts
from center.authority.service import AuthorityService
from center.jpki_verify import find_issuer
from center.municipal.holder_proof import HolderProof
from center.protocol import resident_binding
from devtools.authority import card_key
from documents import Binding, SealingKey, b64url_encode, seal_to_municipality
from documents.registration import application_bytes, sealed_application
from support.family_registers import Entry, write_register

DER = serialization.Encoding.DER
DOMICILE = "大阪府大阪市北区梅田二丁目十五番地"
HEAD = "山田　太郎"
OTHER_DOMICILE = "大阪府大阪市北区梅田三丁目一番地"
OTHER_HEAD = "佐藤　次郎"


def facts(name: str, birth: dt.date, sex: str) -> SigningFacts:
    """A resident of the residence town as their signing certificate states them (sex ``1``/``2``)."""
    return SigningFacts(name, "東京都千代田区霞が関２丁目１番２号", birth, sex, "東京都", "千代田区")


TARO = facts("山田　太郎", dt.date(1960, 4, 1), "1")
HANAKO = facts("山田　花子", dt.date(1962, 5, 5), "2")
ICHIRO = facts("山田　一郎", dt.date(1990, 1, 10), "1")
JIRO = facts("山田　次郎", dt.date(1992, 3, 3), "1")
SACHIKO = facts("山田　幸子", dt.date(1994, 6, 6), "2")
SATO = facts("佐藤　次郎", dt.date(1950, 1, 1), "1")

# register id: (本籍, 筆頭者, members (facts, 続柄))
REGISTERS: dict[int, tuple[str, str, list[tuple[SigningFacts, str]]]] = {
    1: (
        DOMICILE,
        HEAD,
        [(TARO, "長男"), (HANAKO, "妻"), (ICHIRO, "長男"), (JIRO, "二男"), (SACHIKO, "長女")],
    ),
    2: (OTHER_DOMICILE, OTHER_HEAD, [(SATO, "二男")]),
}


def write_registers(connection: sa.Connection) -> None:
    for register_id, (domicile, head, members) in REGISTERS.items():
        entries = [_entry(person, relationship) for person, relationship in members]
        compiled_on = dt.date(1985, 6, 1)
        write_register(
            connection, register_id, domicile=domicile, head=head, entries=entries, compiled_on=compiled_on
        )


def _entry(person: SigningFacts, relationship: str) -> Entry:
    family, given = person.name.split("　")
    return Entry(family, given, person.birth_date, "male" if person.sex == "1" else "female", relationship)


@dataclass
class Resident:
    """A resident's card: its user-authentication and signing keys and certificates."""

    facts: SigningFacts
    auth_key: rsa.RSAPrivateKey
    auth: x509.Certificate
    signing_key: rsa.RSAPrivateKey
    signing: x509.Certificate

    @property
    def holder_hash(self) -> str:
        return Binding.holder_hash(self.auth.public_bytes(DER))


def ocsp_answer(
    authority: AuthorityService,
    certificate: x509.Certificate,
    anchors: list[x509.Certificate],
    now: dt.datetime,
) -> bytes:
    """The authority's answer about ``certificate`` (SHA-1 CertID, no nonce: what the center asks)."""
    question = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, find_issuer(certificate, anchors), hashes.SHA1())
        .build()
    )
    return authority.ocsp_response(question.public_bytes(DER), now=now)


@dataclass
class Applications:
    """Cards from ``authority`` and applications to the municipality of ``sealing_key``."""

    authority: AuthorityService
    auth_anchors: list[x509.Certificate]
    signing_anchors: list[x509.Certificate]
    sealing_key: SealingKey
    terminal_id: str
    terminal_certificate: bytes
    residents: dict[str, Resident] = field(default_factory=dict)

    def resident(self, person: SigningFacts, now: dt.datetime) -> Resident:
        """``person``'s card, issued once (cached keys: user-authentication 0, signing 1)."""
        if person.name not in self.residents:
            auth_key, signing_key = card_key(0), card_key(1)
            auth = self.authority.issue_user_auth(
                auth_key.public_key(), birth_date=person.birth_date, municipality="131016", now=now
            )
            signing = self.authority.issue_signing(
                signing_key.public_key(), person, municipality="131016", now=now
            )
            self.residents[person.name] = Resident(person, auth_key, auth, signing_key, signing)
        return self.residents[person.name]

    def renew(self, resident: Resident, now: dt.datetime) -> Resident:
        """The card renewed (更新: a new user-authentication key and serial; the old one superseded)."""
        key = card_key(3)
        renewed = self.authority.renew(
            resident.auth.serial_number, key.public_key(), birth_date=resident.facts.birth_date, now=now
        )
        self.residents[resident.facts.name] = replace(resident, auth_key=key, auth=renewed)
        return self.residents[resident.facts.name]

    def proof(self, resident: Resident, session_id: str, challenge: bytes, now: dt.datetime) -> HolderProof:
        signature = resident.auth_key.sign(
            resident_binding(session_id, self.terminal_id, challenge), padding.PKCS1v15(), hashes.SHA256()
        )
        revocation = ocsp_answer(self.authority, resident.auth, self.auth_anchors, now)
        return HolderProof(resident.auth.public_bytes(DER), signature, challenge, revocation)

    def status_request(self, resident: Resident, session_id: str, now: dt.datetime) -> dict[str, Any]:
        """``POST /v1/registrations/status``'s body for ``resident`` in ``session_id``."""
        return {
            "session_id": session_id,
            "terminal_id": self.terminal_id,
            "holder_proof": self.proof(
                resident, session_id, session_id.encode().ljust(32, b"c"), now
            ).to_json(),
            "terminal_certificate": b64url_encode(self.terminal_certificate),
        }

    def application_request(
        self,
        resident: Resident,
        in_session: str,
        now: dt.datetime,
        *,
        domicile: str = DOMICILE,
        head: str = HEAD,
        signed_by: rsa.RSAPrivateKey | None = None,
        signing: x509.Certificate | None = None,
        signing_revocation: bytes | None = None,
        **application: Any,
    ) -> dict[str, Any]:
        """``POST /v1/registrations``'s body: the card's proof in ``in_session``, the application
        (its fields changed by ``application``) signed by the card's signing key (or
        ``signed_by``) with its certificate (or ``signing``), sealed to the municipality, and the
        authority's answer about the signing certificate (or ``signing_revocation``)."""
        body = self.status_request(resident, in_session, now)
        proof = body["holder_proof"]
        fields: dict[str, Any] = {
            "municipality": self.sealing_key.municipality,
            "session_id": in_session,
            "terminal_id": self.terminal_id,
            "challenge": in_session.encode().ljust(32, b"c"),
            "auth_serial": resident.auth.serial_number,
            "domicile": domicile,
            "head": head,
        }
        fields.update(application)
        data = application_bytes(**fields)
        signature = (signed_by or resident.signing_key).sign(data, padding.PKCS1v15(), hashes.SHA256())
        certificate = signing or resident.signing
        content = sealed_application(data, signature, certificate.public_bytes(DER))
        sealed = seal_to_municipality(
            content, self.sealing_key, session_id=in_session, terminal_id=self.terminal_id
        )
        revocation = (
            signing_revocation
            if signing_revocation is not None
            else ocsp_answer(self.authority, certificate, self.signing_anchors, now)
        )
        return {
            **body,
            "holder_proof": proof,
            "sealed": b64url_encode(sealed),
            "signing_revocation": b64url_encode(revocation),
        }
