"""The OCSP responder (RFC 6960): revocation status of one certificate serial, signed.

Signer: the CA generation that issued the certificate signs the answer itself with its own key
(RFC 6960 §4.2.2.2, first case), and names itself by key hash (ResponderID ``byKey``): the
generations share one name, so ``byName`` could not say which one signed. No delegated
responder certificate exists, so a verifier checks the answer with the very CA key it already
trusts for the certificate's chain, and no id-kp-OCSPSigning / ocsp-nocheck rules apply.

Which generation is asked: the CertID's ``issuerKeyHash`` (and ``issuerNameHash``), for any of
SHA-1, SHA-224, SHA-256, SHA-384, SHA-512. A CertID of no generation of ours answers
``unauthorized`` (we cannot answer authoritatively); a serial this generation never issued
answers ``unknown``; bytes that are not one OCSP request answer ``malformedRequest`` (so do
serials that are not positive or longer than 20 bytes); a database outage answers ``tryLater``.
A nonce (1 to 128 bytes, RFC 8954) is echoed; longer or empty ones are malformed. An answer
about a certificate that renewed others (good or revoked, not ``unknown``) states their serials,
newest first, in the non-critical response extension ``koufuPreviousSerials``
(:mod:`center.previous_serials`): ``cryptography`` writes no ``singleExtensions``, and our answers
hold one SingleResponse each.

Pre-produced answers (RFC 5019 §2.1 and §6, the profile for high-volume verifiers): a request
without a nonce and with a SHA-1 CertID, the form RFC 5019 clients send, is answered with the
answer already signed for that certificate while it is younger than :data:`OCSP_REFRESH`; the
authority signs one when it issues a certificate, and again when the kept one is older or the
status changed (every change of status clears it in the same statement, and an answer is kept
only if the status it states still holds). Signing (an RSA-2048 private-key operation) is
thus out of the path of nearly every question. A request with a nonce is always signed anew,
so the nonce can be echoed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from center.authority.ca import TestAuthority
from center.authority.errors import AuthorityStateError, MalformedOcspRequestError
from center.authority.generation import CaKind, CertificationAuthority
from center.authority.keys import key_hash
from center.authority.reasons import RevocationReason
from center.authority.store import CertificateRecord, ProducedAnswer
from center.previous_serials import extension as previous_serials_extension

OCSP_VALIDITY = dt.timedelta(minutes=10)  # nextUpdate - thisUpdate: how long a verifier may cache
OCSP_REFRESH = OCSP_VALIDITY / 2  # a kept answer older than this is signed anew
MAX_NONCE = 128
_HASHES: tuple[type[hashes.HashAlgorithm], ...] = (
    hashes.SHA1,
    hashes.SHA224,
    hashes.SHA256,
    hashes.SHA384,
    hashes.SHA512,
)

log = logging.getLogger(__name__)

Lookup = Callable[[int], CertificateRecord | None]
Keep = Callable[[CertificateRecord, ProducedAnswer], bool]


@dataclass(frozen=True)
class OcspQuery:
    """One parsed OCSP request: the CertID and the nonce."""

    serial: int
    algorithm: hashes.HashAlgorithm
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    nonce: bytes | None


def parse_request(der: bytes) -> OcspQuery:
    """Parse an OCSPRequest (DER) with exactly one CertID, or :class:`MalformedOcspRequestError`."""
    try:
        request = ocsp.load_der_ocsp_request(der)
        algorithm = request.hash_algorithm
        extensions = request.extensions
        query = OcspQuery(
            serial=request.serial_number,
            algorithm=algorithm,
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            nonce=None,
        )
    except (ValueError, TypeError, NotImplementedError, UnsupportedAlgorithm) as exc:
        raise MalformedOcspRequestError(f"not an OCSP request: {exc}") from exc
    if not 0 < query.serial < 2**160:
        raise MalformedOcspRequestError("a serial number is positive and at most 20 bytes")
    if not isinstance(algorithm, _HASHES):
        raise MalformedOcspRequestError(f"unsupported CertID hash {algorithm.name}")
    size = algorithm.digest_size
    if len(query.issuer_name_hash) != size or len(query.issuer_key_hash) != size:
        raise MalformedOcspRequestError("CertID hashes do not match their algorithm")
    nonce = None
    for extension in extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            nonce = extension.value.nonce
        elif extension.critical:
            raise MalformedOcspRequestError(f"unsupported critical extension {extension.oid}")
    if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE:
        raise MalformedOcspRequestError(f"nonce of {len(nonce)} bytes (1 to {MAX_NONCE} allowed)")
    return OcspQuery(query.serial, algorithm, query.issuer_name_hash, query.issuer_key_hash, nonce)


@dataclass(frozen=True)
class Question:
    """A request understood: its CertID and nonce, and the generation it asks."""

    query: OcspQuery
    ca: CertificationAuthority


class OcspResponder:
    """Turns request bytes into a signed response; never raises on bad input.

    ``lookup`` reads a certificate's record (with its kept answer); ``keep`` stores a newly
    signed answer as the certificate's pre-produced one (and says whether it did).
    """

    def __init__(self, authority: TestAuthority, lookup: Lookup, keep: Keep) -> None:
        self._authority = authority
        self._lookup = lookup
        self._keep = keep
        self._ids: dict[tuple[str, bytes, bytes], CertificationAuthority] = {}
        for ca in authority.cas:
            name_der = ca.certificate.subject.public_bytes()
            for algorithm in (cls() for cls in _HASHES):
                name_digest = hashes.Hash(algorithm)
                name_digest.update(name_der)
                key_digest = key_hash(ca.key.public_key(), algorithm)
                self._ids[(algorithm.name, name_digest.finalize(), key_digest)] = ca

    def issuer(self, query: OcspQuery) -> CertificationAuthority | None:
        """The generation a CertID names: by key hash and name hash, never by name alone."""
        return self._ids.get((query.algorithm.name, query.issuer_name_hash, query.issuer_key_hash))

    def question(self, der: bytes) -> Question | bytes:
        """The request ``der`` understood, or the unsuccessful answer it gets at once."""
        try:
            query = parse_request(der)
        except MalformedOcspRequestError:
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        ca = self.issuer(query)
        if ca is None:
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        return Question(query, ca)

    def reply(
        self, question: Question, record: CertificateRecord | None, now: dt.datetime
    ) -> tuple[bytes, ProducedAnswer | None]:
        """The answer to ``question`` about ``record`` (read for its serial): the kept one if it
        may be sent, else one signed now; and what to keep (a newly signed answer of the kept
        form), if anything."""
        kept = _usable(record, question, now)
        if kept is not None:
            return kept, None
        answer = self.answer(question.ca, question.query, record, now).public_bytes(Encoding.DER)
        if record is None or not _may_keep(record, question.ca, question.query):
            return answer, None
        return answer, ProducedAnswer(answer, now.replace(microsecond=0))

    def respond(self, der: bytes, now: dt.datetime) -> bytes:
        """The DER answer to the request ``der``, with the synchronous ``lookup`` and ``keep``."""
        question = self.question(der)
        if isinstance(question, bytes):
            return question
        try:
            record = self._lookup(question.query.serial)
        except AuthorityStateError as exc:
            return try_later(exc)
        answer, to_keep = self.reply(question, record, now)
        if record is not None and to_keep is not None:
            try:
                self._keep(record, to_keep)
            except AuthorityStateError as exc:
                not_kept(record, exc)
        return answer

    def produce(self, record: CertificateRecord, now: dt.datetime) -> ProducedAnswer:
        """The answer RFC 5019 clients will ask about ``record``, signed ahead (at issuance)."""
        ca = self._authority.generation(CaKind(record.kind), record.generation)
        name_hash = hashes.Hash(hashes.SHA1())
        name_hash.update(ca.certificate.subject.public_bytes())
        query = OcspQuery(
            record.serial,
            hashes.SHA1(),
            name_hash.finalize(),
            key_hash(ca.key.public_key(), hashes.SHA1()),
            None,
        )
        answer = self.answer(ca, query, record, now).public_bytes(Encoding.DER)
        return ProducedAnswer(answer, now.replace(microsecond=0))

    def answer(
        self,
        ca: CertificationAuthority,
        query: OcspQuery,
        record: CertificateRecord | None,
        now: dt.datetime,
    ) -> ocsp.OCSPResponse:
        """A newly signed answer about ``record`` (``None``: a serial never issued)."""
        this_update = now.replace(microsecond=0)
        status = ocsp.OCSPCertStatus.GOOD
        revoked_at = None
        reason = None
        if record is None or (record.kind, record.generation) != (ca.kind.value, ca.generation):
            status = ocsp.OCSPCertStatus.UNKNOWN
        elif record.revoked_at is not None:
            status = ocsp.OCSPCertStatus.REVOKED
            revoked_at = record.revoked_at.replace(microsecond=0)
            if record.revocation_reason not in (None, RevocationReason.UNSPECIFIED):
                assert record.revocation_reason is not None
                reason = record.revocation_reason.crl_reason
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=query.issuer_name_hash,
                issuer_key_hash=query.issuer_key_hash,
                serial_number=query.serial,
                algorithm=query.algorithm,
                cert_status=status,
                this_update=this_update,
                next_update=this_update + OCSP_VALIDITY,
                revocation_time=revoked_at,
                revocation_reason=reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.certificate)
        )
        if query.nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(query.nonce), critical=False)
        if status is not ocsp.OCSPCertStatus.UNKNOWN and record is not None and record.previous_serials:
            # the serials it renewed (center/previous_serials.py): fixed at issuance, so a kept
            # answer never goes out of date by them
            builder = builder.add_extension(
                previous_serials_extension(record.previous_serials), critical=False
            )
        log.info("OCSP %s serial %d: %s", ca.label, query.serial, status.name.lower())
        return builder.sign(ca.key, hashes.SHA256())


def try_later(error: AuthorityStateError) -> bytes:
    """The answer when the database is away: the client may retry."""
    log.error("OCSP answer impossible: %s", error)
    return _unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)


def not_kept(record: CertificateRecord, error: AuthorityStateError) -> None:
    """A signed answer that could not be kept was sent all the same; it is signed again next time."""
    log.warning("OCSP answer for serial %d not kept: %s", record.serial, error)


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(Encoding.DER)


def _may_keep(record: CertificateRecord, ca: CertificationAuthority, query: OcspQuery) -> bool:
    """Only the form RFC 5019 clients ask (SHA-1 CertID, no nonce), about a certificate of the
    generation that answers, is kept."""
    return (
        query.nonce is None
        and isinstance(query.algorithm, hashes.SHA1)
        and (record.kind, record.generation) == (ca.kind.value, ca.generation)
    )


def _usable(record: CertificateRecord | None, question: Question, now: dt.datetime) -> bytes | None:
    """The kept answer for this question, if it may be sent: the request is of the kept form and
    names the generation that issued the certificate (the kept answer is that generation's: a
    CertID of another generation, or of the other kind, is answered ``unknown`` by the one it
    names), and the answer is younger than :data:`OCSP_REFRESH` (and not from the future)."""
    if record is None or record.answer is None or not _may_keep(record, question.ca, question.query):
        return None
    if not record.answer.this_update <= now < record.answer.this_update + OCSP_REFRESH:
        return None
    return record.answer.der
