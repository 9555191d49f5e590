"""What a card's personalisation needs of the JPKI authority (J-LIS): certificates for its keys.

The emulator never opens the authority itself. Whoever issues a card (カード発行) or renews one of
its certificates (更新) hands :mod:`hardware.cardsim.personalize` a :class:`CertificateIssuer`:
``koufu.cards`` wires in the authority simulator; a test may hand in anything that issues.
The card makes its key pairs and gives only their public halves; the issuer answers with the
certificates and the CA generations that signed them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class Holder:
    """A fictitious resident for a test card (the defaults name nobody real)."""

    name: str = "試験　花子"
    address: str = "東京都千代田区霞が関２丁目１番２号"
    birth_date: dt.date = dt.date(1990, 5, 10)
    sex: str = "2"
    prefecture: str = "東京都"
    city: str = "千代田区"
    my_number: str = ""
    municipality: str = "131016"  # 地方公共団体コード of the city above

    @property
    def signing_subject(self) -> SigningSubject:
        """Whom the holder's signing certificate names."""
        return SigningSubject(self.name, self.address, self.birth_date, self.sex, self.prefecture, self.city)


@dataclass(frozen=True)
class SigningSubject:
    """Whom a signing certificate (署名用電子証明書) names: the four basic facts (基本4情報) and the
    prefecture and city of the address."""

    name: str
    address: str
    birth_date: dt.date
    sex: str
    prefecture: str
    city: str


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate for the card and the certificate of the CA generation that signed it."""

    certificate: x509.Certificate
    issuer: x509.Certificate


@dataclass(frozen=True)
class CardCertificates:
    """A new card's certificates: user authentication (利用者証明用) and, for a holder of 15 or more
    who chose a signing password, signing (署名用)."""

    user_auth: IssuedCertificate
    signing: IssuedCertificate | None


class CertificateIssuer(Protocol):
    """The JPKI authority as a card sees it: it issues and renews the card's certificates.

    Every certificate is recorded under a municipality code (地方公共団体コード, the 住基ネット
    mapping); the issuer refuses (raises) what it cannot issue.
    """

    def issue(
        self,
        holder: Holder,
        user_auth_key: rsa.RSAPublicKey,
        signing_key: rsa.RSAPublicKey | None,
        *,
        now: dt.datetime,
    ) -> CardCertificates:
        """発行: the user-authentication certificate for ``user_auth_key``, then (with a
        ``signing_key``) the signing certificate naming ``holder.signing_subject``, both recorded
        under ``holder.municipality``."""
        ...

    def renew_user_auth(
        self,
        serial: int,
        public_key: rsa.RSAPublicKey,
        *,
        birth_date: dt.date,
        municipality: str | None,
        now: dt.datetime | None,
    ) -> IssuedCertificate:
        """更新 of the user-authentication certificate ``serial``: a new one for ``public_key``
        (valid by ``birth_date``); the mapping moves to ``municipality`` if one is given (転入)."""
        ...

    def renew_signing(
        self,
        serial: int,
        public_key: rsa.RSAPublicKey,
        subject: SigningSubject,
        *,
        municipality: str | None,
        now: dt.datetime | None,
    ) -> IssuedCertificate:
        """更新 of the signing certificate ``serial``: a new one for ``public_key`` naming
        ``subject``; the mapping moves to ``municipality`` if one is given (転入)."""
        ...
