"""The JPKI test authority's CAs (公的個人認証サービス 認証局, test edition), generation by generation.

J-LIS runs two self-signed root CAs, one for user authentication and one for signing, and renews
each every few years with a new key under the *same* name (generations 2015, 2019, 2023…).
Certificates issued under an old generation stay valid until they expire, so verifiers must find
the issuer by key (authorityKeyIdentifier = subjectKeyIdentifier, then the signature), never by
name. The newest generation valid at the time issues every new certificate. One generation is a
:class:`~center.authority.generation.CertificationAuthority`; this module keeps them all.

Keys and certificates live in ``<directory>/ca/<kind>-<year>.key|.crt`` (keys mode 0600), names
and extensions as in reference/jpki-card.md §8 under ``O=JPKI-TEST``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority import issuance
from center.authority.errors import (
    AuthorityError,
    AuthorityStateError,
    NoCurrentGenerationError,
    UnknownGenerationError,
    UnknownIssuerError,
)
from center.authority.generation import CaKind, CertificationAuthority, create_ca
from center.authority.issuance import SigningFacts, utf8_string
from center.authority.keys import (
    KEY_SIZE,
    KeyFactory,
    authority_key_id,
    generate_key,
    key_identifier,
    new_serial,
    read_private_key,
    write_private_key,
)

__all__ = [
    "KEY_SIZE",
    "AuthorityError",
    "CaKind",
    "CertificationAuthority",
    "SigningFacts",
    "TestAuthority",
    "default_generations",
    "generate_key",
    "new_serial",
    "utf8_string",
]

FIRST_GENERATION = 2015
GENERATION_INTERVAL_YEARS = 4
CA_DIRECTORY = "ca"
_CA_FILE = re.compile(r"^(user-auth|signing)-(\d{4})\.crt$")


def default_generations(now: dt.datetime) -> tuple[int, ...]:
    """The three newest generation years up to ``now``: 2015, 2019, 2023 in 2026."""
    newest = FIRST_GENERATION + GENERATION_INTERVAL_YEARS * max(
        0, (now.year - FIRST_GENERATION) // GENERATION_INTERVAL_YEARS
    )
    if newest > now.year:  # before 2015: the current year is the only generation
        return (now.year,)
    return tuple(newest - GENERATION_INTERVAL_YEARS * back for back in (2, 1, 0))


class TestAuthority:
    """Every CA generation of the test authority, and issuance by the current one.

    ``load_or_create(directory)`` then ``issue_user_auth_certificate`` / ``issue_signing_certificate``.
    This class is the key material only; :class:`center.authority.service.AuthorityService` adds
    the database (what was issued, to which municipality, revocations).
    """

    __test__ = False  # not a pytest class

    def __init__(self, cas: Iterable[CertificationAuthority]) -> None:
        self.cas = tuple(sorted(cas, key=lambda ca: (ca.kind, ca.generation)))
        for kind in CaKind:
            if not self.generations(kind):
                raise AuthorityStateError(f"the authority has no {kind} CA")

    # -- directory ---------------------------------------------------------------------------

    @classmethod
    def load_or_create(
        cls,
        directory: Path,
        *,
        now: dt.datetime | None = None,
        generations: Sequence[int] | None = None,
        key_factory: KeyFactory = generate_key,
    ) -> TestAuthority:
        """Load the CAs in ``directory``, creating them (all generations at once) if absent."""
        directory = Path(directory)
        if (directory / CA_DIRECTORY).is_dir():
            return cls.load(directory)
        years = tuple(generations or default_generations(now or dt.datetime.now(dt.UTC)))
        cas = [create_ca(kind, year, key_factory()) for kind in CaKind for year in years]
        _publish(directory, cas)
        return cls.load(directory)

    @classmethod
    def load(cls, directory: Path) -> TestAuthority:
        folder = Path(directory) / CA_DIRECTORY
        if not folder.is_dir():
            raise AuthorityStateError(f"no authority in {directory} (run koufu authority init)")
        cas = []
        for cert_path in sorted(folder.glob("*.crt")):
            match = _CA_FILE.match(cert_path.name)
            if not match:
                continue
            try:
                certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
            except ValueError as exc:
                raise AuthorityStateError(f"cannot load {cert_path.name}: {exc}") from exc
            key = read_private_key(cert_path.with_suffix(".key"))
            if key_identifier(key.public_key()) != key_identifier(_rsa(certificate)):
                raise AuthorityStateError(f"{cert_path.name} does not belong to its key")
            cas.append(CertificationAuthority(CaKind(match[1]), int(match[2]), key, certificate))
        return cls(cas)

    # -- generations -------------------------------------------------------------------------

    def generations(self, kind: CaKind) -> list[CertificationAuthority]:
        """Every generation of one CA, oldest first."""
        return [ca for ca in self.cas if ca.kind is kind]

    def generation(self, kind: CaKind, year: int) -> CertificationAuthority:
        for ca in self.generations(kind):
            if ca.generation == year:
                return ca
        raise UnknownGenerationError(kind, year)

    def current(self, kind: CaKind, now: dt.datetime) -> CertificationAuthority:
        """The generation that issues at ``now``: the newest one valid then."""
        valid = [ca for ca in self.generations(kind) if ca.valid_at(now)]
        if not valid:
            raise NoCurrentGenerationError(f"no {kind} CA generation is valid at {now:%Y-%m-%d}")
        return valid[-1]

    @property
    def user_auth(self) -> CertificationAuthority:
        """The newest user-authentication CA generation."""
        return self.generations(CaKind.USER_AUTH)[-1]

    @property
    def signing(self) -> CertificationAuthority:
        """The newest signing CA generation."""
        return self.generations(CaKind.SIGNING)[-1]

    def by_key_id(self, key_id: bytes) -> CertificationAuthority | None:
        return next((ca for ca in self.cas if ca.key_id == key_id), None)

    def issuer_of(self, certificate: x509.Certificate) -> CertificationAuthority:
        """The generation that issued ``certificate``, chosen by key identifier and signature."""
        return select_issuer(certificate, self.cas)

    # -- issuance ----------------------------------------------------------------------------

    def issue_user_auth_certificate(
        self,
        public_key: rsa.RSAPublicKey,
        *,
        birth_date: dt.date,
        now: dt.datetime | None = None,
        serial: int | None = None,
    ) -> x509.Certificate:
        """利用者証明用電子証明書 from the current user-authentication generation."""
        now = now or dt.datetime.now(dt.UTC)
        ca = self.current(CaKind.USER_AUTH, now)
        return issuance.user_auth_certificate(ca, public_key, birth_date=birth_date, now=now, serial=serial)

    def issue_signing_certificate(
        self,
        public_key: rsa.RSAPublicKey,
        facts: SigningFacts,
        *,
        now: dt.datetime | None = None,
        serial: int | None = None,
    ) -> x509.Certificate:
        """署名用電子証明書 from the current signing generation."""
        now = now or dt.datetime.now(dt.UTC)
        ca = self.current(CaKind.SIGNING, now)
        return issuance.signing_certificate(ca, public_key, facts, now=now, serial=serial)


def select_issuer(
    certificate: x509.Certificate, candidates: Iterable[CertificationAuthority]
) -> CertificationAuthority:
    """Pick the issuer among CAs sharing one name: key identifier first, then the signature.

    The name is not enough (every generation has the same one); a certificate whose
    authorityKeyIdentifier names a generation but whose signature does not verify under that
    key is refused, and so is one without an authorityKeyIdentifier that no candidate signed.
    """
    wanted = authority_key_id(certificate)
    for ca in candidates:
        if wanted is not None and ca.key_id != wanted:
            continue
        if ca.certificate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(ca.certificate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return ca
    raise UnknownIssuerError(
        f"certificate {certificate.serial_number} was not issued by any known CA generation"
    )


def _rsa(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise AuthorityStateError("a CA certificate without an RSA key")
    return key


def _publish(directory: Path, cas: Sequence[CertificationAuthority]) -> None:
    """Write every CA into a private temporary folder, then rename it into place at once.

    Two processes creating the same authority at the same time end up with one set of CAs: the
    loser of the rename discards its own.
    """
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=directory))
    try:
        for ca in cas:
            write_private_key(staging / f"{ca.label}.key", ca.key)
            (staging / f"{ca.label}.crt").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        try:
            os.rename(staging, directory / CA_DIRECTORY)
        except OSError:
            if not (directory / CA_DIRECTORY).is_dir():
                raise
    finally:
        if staging.exists():
            for leftover in staging.iterdir():
                leftover.unlink()
            staging.rmdir()
