"""A revoked card suspends its usage registration (失効による利用登録の停止).

``koufu municipal registrations check-revocations`` asks the JPKI authority's OCSP responder, for
every pending or approved registration, about the newest serial the registration is known by
(:meth:`~center.municipal.registrations.Registrations.newest_serials`) and suspends those the
authority calls revoked (:meth:`~center.municipal.registrations.Registrations.suspend`). A renewed
card's proof resumes them (:func:`center.municipal.registered_holder.registration_of`).

The municipality keeps serials, not certificates: :class:`OcspBySerial` asks by CertID built
from a user-authentication CA of its own JPKI anchors (``jpki-anchors.pem``: the issuer's name
and key hashes, SHA-1 as RFC 5019 clients send) and the serial
(``OCSPRequestBuilder.add_certificate_by_hash``). Which generation issued a serial is not kept
either: the newest generation is asked first, and an answer ``unknown`` (that generation never
issued it) or ``unauthorized`` (the authority has no such generation) sends the question to the
next. An answer is believed only as :func:`center.jpki_verify.judge_ocsp` allows: signed by the
CA asked, about the serial asked, fresh. A serial no generation knows is counted, not suspended.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from center.jpki_verify import MAX_OCSP_SIZE, RevocationStatus, UnusableRevocation, judge_ocsp
from center.municipal.registrations import RegistrationError, Registrations

log = logging.getLogger(__name__)

OCSP_REQUEST = "application/ocsp-request"


class AuthorityUnanswered(RegistrationError):
    """The authority could not be asked, or answered what cannot be believed: nothing more is
    suspended (those suspended before stay so). The command line's only: no route answers it."""


def cert_id_request(serial: int, anchor: x509.Certificate) -> bytes:
    """The DER OCSP request (one SHA-1 CertID, no extensions) about ``serial`` as issued by the
    CA generation ``anchor``."""
    name_hash = hashes.Hash(hashes.SHA1())
    name_hash.update(anchor.subject.public_bytes())
    key_hash = x509.SubjectKeyIdentifier.from_public_key(
        anchor.public_key()
    ).digest  # SHA-1 of the key's bits
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash.finalize(), key_hash, serial, hashes.SHA1())
        .build()
    )
    return request.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class _Serial:
    """What :func:`judge_ocsp` reads of the certificate it judges an answer about: its serial."""

    serial_number: int


@dataclass
class OcspBySerial:
    """The JPKI authority's OCSP responder, asked by serial (``url``: where requests are POSTed;
    ``token``: the municipality's verifier token; ``verify``: the TLS trust)."""

    url: str
    token: str
    anchors: Sequence[x509.Certificate]
    verify: ssl.SSLContext | bool = True
    timeout: float = 10.0
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def __post_init__(self) -> None:
        # the newest generation first: most cards are its
        self.anchors = sorted(self.anchors, key=lambda anchor: anchor.not_valid_before_utc, reverse=True)
        self._client = httpx.Client(
            verify=self.verify, timeout=self.timeout, headers={"Authorization": f"Bearer {self.token}"}
        )

    def close(self) -> None:
        self._client.close()

    def _ask(self, request: bytes) -> bytes:
        try:
            answer = self._client.post(self.url, content=request, headers={"Content-Type": OCSP_REQUEST})
        except httpx.HTTPError as error:
            raise AuthorityUnanswered(
                f"the JPKI authority cannot be reached ({type(error).__name__})"
            ) from None
        if answer.status_code != 200 or len(answer.content) > MAX_OCSP_SIZE:
            raise AuthorityUnanswered(f"the JPKI authority answered HTTP {answer.status_code}")
        return answer.content

    def status(self, serial: int) -> RevocationStatus:
        """What the authority says of ``serial`` (``UNKNOWN``: no generation of the anchors
        issued it); :class:`AuthorityUnanswered` if it cannot be told."""
        for anchor in self.anchors:
            raw = self._ask(cert_id_request(serial, anchor))
            try:
                kind = ocsp.load_der_ocsp_response(raw).response_status
            except ValueError:
                raise AuthorityUnanswered("the JPKI authority's answer is not OCSP") from None
            if kind is ocsp.OCSPResponseStatus.UNAUTHORIZED:
                continue  # the authority has no such generation
            try:
                # judge_ocsp reads nothing of the certificate but its serial
                judged = judge_ocsp(raw, cast(x509.Certificate, _Serial(serial)), anchor, self.clock())
            except UnusableRevocation as error:
                raise AuthorityUnanswered(f"the JPKI authority's answer cannot be trusted: {error}") from None
            if judged.status is not RevocationStatus.UNKNOWN:
                return judged.status
        return RevocationStatus.UNKNOWN


@dataclass(frozen=True)
class RevocationCheck:
    """How many registrations were checked, suspended now, and not known to the authority."""

    checked: int
    suspended: int
    unknown: int


def check_revocations(
    registrations: Registrations, status: Callable[[int], RevocationStatus]
) -> RevocationCheck:
    """Suspend every pending or approved registration whose newest serial ``status`` calls
    revoked."""
    checked = suspended = unknown = 0
    for registration, serial in registrations.newest_serials():
        found = status(serial)
        checked += 1
        if found is RevocationStatus.REVOKED:
            registrations.suspend(registration.id)
            suspended += 1
        elif found is RevocationStatus.UNKNOWN:
            unknown += 1
    log.info("revocations checked: %d registrations, %d suspended, %d unknown", checked, suspended, unknown)
    return RevocationCheck(checked, suspended, unknown)
