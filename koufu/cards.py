"""The card emulator's certificates from the authority simulator (カード発行, 更新).

:class:`AuthorityIssuer` is an :class:`AuthorityService` as the card emulator's
``CertificateIssuer``: it issues and renews a card's certificates and records each under the
holder's municipality (the 住基ネット mapping). :func:`issue_card` makes a card file with the
authority of a directory, opened (and created if missing) for the occasion: ``koufu card issue``,
the demo, the development stack's residents and the tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority.issuance import SigningFacts
from center.authority.municipality import municipality_code
from center.authority.service import AuthorityService
from hardware.cardsim.issuer import CardCertificates, Holder, IssuedCertificate, SigningSubject
from hardware.cardsim.personalize import card_request, personalize
from hardware.cardsim.state import CardState


class AuthorityIssuer:
    """The authority simulator issuing and renewing the certificates of emulated cards."""

    def __init__(self, service: AuthorityService) -> None:
        self.service = service

    def issue(
        self,
        holder: Holder,
        user_auth_key: rsa.RSAPublicKey,
        signing_key: rsa.RSAPublicKey | None,
        *,
        now: dt.datetime,
    ) -> CardCertificates:
        """発行: the user-authentication certificate, then the signing one if a key is given."""
        user_auth = self.service.issue_user_auth(
            user_auth_key, birth_date=holder.birth_date, municipality=holder.municipality, now=now
        )
        signing = None
        if signing_key is not None:
            signing = self.service.issue_signing(
                signing_key, _facts(holder.signing_subject), municipality=holder.municipality, now=now
            )
        return CardCertificates(self._issued(user_auth), None if signing is None else self._issued(signing))

    def renew_user_auth(
        self,
        serial: int,
        public_key: rsa.RSAPublicKey,
        *,
        birth_date: dt.date,
        municipality: str | None,
        now: dt.datetime | None,
    ) -> IssuedCertificate:
        """更新 of a user-authentication certificate (:meth:`AuthorityService.renew`)."""
        return self._issued(
            self.service.renew(serial, public_key, birth_date=birth_date, municipality=municipality, now=now)
        )

    def renew_signing(
        self,
        serial: int,
        public_key: rsa.RSAPublicKey,
        subject: SigningSubject,
        *,
        municipality: str | None,
        now: dt.datetime | None,
    ) -> IssuedCertificate:
        """更新 of a signing certificate (:meth:`AuthorityService.renew`)."""
        return self._issued(
            self.service.renew(serial, public_key, facts=_facts(subject), municipality=municipality, now=now)
        )

    def _issued(self, certificate: x509.Certificate) -> IssuedCertificate:
        return IssuedCertificate(certificate, self.service.authority.issuer_of(certificate).certificate)


def issue_card(
    out: Path,
    *,
    authority_dir: Path,
    pin: str = "1234",
    sign_password: str | None = "ABC123",
    support_pin: str | None = None,
    holder: Holder | None = None,
    profile: str = "card",
    now: dt.datetime | None = None,
    authority_db: str | None = None,
) -> CardState:
    """Create a card state file at ``out`` and return the state.

    ``support_pin`` defaults to ``pin`` (residents are asked to set the same 4 digits).
    ``sign_password=None`` issues no signing certificate (holders under 15).
    The authority in ``authority_dir`` (created if missing; its database at ``authority_db``,
    by default a SQLite file there) records both certificates under ``holder.municipality``.
    Everything is checked before the authority is opened.
    """
    request = card_request(
        holder,
        pin=pin,
        sign_password=sign_password,
        support_pin=support_pin,
        profile=profile,
        check_municipality=municipality_code,
    )
    now = now or dt.datetime.now(dt.UTC)
    with AuthorityService.open(authority_dir, db_url=authority_db, now=now) as service:
        return personalize(out, AuthorityIssuer(service), request, now=now)


def _facts(subject: SigningSubject) -> SigningFacts:
    return SigningFacts(
        subject.name, subject.address, subject.birth_date, subject.sex, subject.prefecture, subject.city
    )
