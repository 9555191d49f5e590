"""The domicile municipality checks a usage registration application itself (利用登録申請の検証).

A resident applies at a kiosk: the card signs the application (:mod:`documents.registration`)
with its signing key (署名用電子証明書の秘密鍵) and the kiosk seals it, with the signature and the
signing certificate, to this municipality's sealing key; the center relays it unread, with the
session's holder proof (already checked: :mod:`center.municipal.holder_proof`) and the JPKI
authority's OCSP answer about the signing certificate. :func:`verify_application` trusts none of
it for being relayed. In order, each failure an :class:`ApplicationNotProven` (its ``reason``
says which check, never a value):

1. the envelope opens with this municipality's sealing key, sealed in this session by this
   terminal (``sealed_unreadable``), and holds an application, its signature and certificate
   (``application_malformed``);
2. the signing certificate chains to the municipality's JPKI signing anchors
   (``jpki-signing-anchors.pem``), is valid now, and its key's RSA PKCS#1 v1.5 SHA-256 signature
   over the application's bytes verifies (the codes of :func:`center.jpki_verify.check_proof`);
3. the OCSP answer is the signing CA's (or its delegate's), about that certificate, fresh
   (``signing_revocation_unusable``), and says ``good`` (``signing_certificate_revoked``);
4. the application is this session's: its session, terminal and challenge are those of the
   request and of the card's proof (``other_session``), it names this municipality
   (``other_municipality``) and, as ``auth_serial``, the serial of the very card whose proof the
   request carries (``other_card``);
5. the signing certificate states the applicant's 基本4情報 in its subjectAltName otherNames
   (``signing_certificate_facts``): the name (氏と名, separated by a space as J-LIS writes it),
   the sex (``1`` male, ``2`` female) and the birth date (``EYYYYMMDD``: era digit, then the
   Gregorian date), which become the :class:`~center.municipal.domicile_match.Applicant` the
   registers are searched for. What the resident typed (本籍, 筆頭者) is only compared, never
   kept; the address is not read.
"""

from __future__ import annotations

import datetime as dt
import hmac
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char

from center.authority.names import OID_BIRTH, OID_NAME, OID_SEX, era_birth_date
from center.errors import ResidentRefused
from center.jpki_verify import RevocationStatus, UnusableRevocation, check_proof, judge_ocsp
from center.municipal.domicile_match import Applicant
from center.municipal.holder_proof import HolderProof, ProvenHolder
from center.municipal.issuer import IssuanceError
from documents import DocumentError, open_from_terminal
from documents.registration import Application, read_application, read_sealed_application

_SEXES = {"1": "male", "2": "female"}
_NAME_SPACES = ("\u3000", " ")  # J-LIS writes 氏　名 with a full-width space


class ApplicationNotProven(IssuanceError):
    """The application is not proven to be this session's card holder's, to this municipality:
    nothing is recorded (``reason``: which check failed; the message names no value)."""

    code = "application_not_proven"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedApplication:
    """An application proven to be the session's card holder's: what they typed, and who they
    are as their signing certificate states it."""

    application: Application
    applicant: Applicant


def verify_application(
    sealed: bytes,
    signing_revocation: bytes,
    *,
    proof: HolderProof,
    proven: ProvenHolder,
    session_id: str,
    terminal_id: str,
    municipality: str,
    sealing_key: ec.EllipticCurvePrivateKey,
    signing_anchors: Sequence[x509.Certificate],
    now: dt.datetime,
) -> VerifiedApplication:
    """The application ``sealed`` carries, if every check of the module's docstring passes;
    else :class:`ApplicationNotProven`. ``proof`` and ``proven``: the request's holder proof and
    what it proved (checked before)."""
    try:
        content = open_from_terminal(
            sealed,
            municipality=municipality,
            sealing_key=sealing_key,
            session_id=session_id,
            terminal_id=terminal_id,
        )
    except DocumentError as error:
        raise ApplicationNotProven("sealed_unreadable", f"the sealed application: {error.message}") from None
    try:
        parts = read_sealed_application(content)
        application = read_application(parts.application)
    except DocumentError as error:
        raise ApplicationNotProven("application_malformed", error.message) from None
    try:
        signer = check_proof(
            parts.signing_certificate, parts.signature, parts.application, anchors=signing_anchors, now=now
        )
    except ResidentRefused as refused:
        raise ApplicationNotProven(
            refused.code, f"the signing certificate or signature: {refused.message}"
        ) from None
    try:
        judged = judge_ocsp(signing_revocation, signer.certificate, signer.issuer, now)
    except UnusableRevocation as error:
        raise ApplicationNotProven(
            "signing_revocation_unusable", f"the signing certificate's revocation answer: {error}"
        ) from None
    if judged.status is not RevocationStatus.GOOD:
        raise ApplicationNotProven(
            "signing_certificate_revoked", "the authority does not call the signing certificate good"
        )
    same_session = (
        hmac.compare_digest(application.session_id.encode(), session_id.encode())
        and hmac.compare_digest(application.terminal_id.encode(), terminal_id.encode())
        and hmac.compare_digest(application.challenge, proof.challenge)
    )
    if not same_session:
        raise ApplicationNotProven("other_session", "the application was made in another session")
    if application.municipality != municipality:
        raise ApplicationNotProven("other_municipality", "the application is to another municipality")
    if application.auth_serial != proven.serial:
        raise ApplicationNotProven("other_card", "the application names another card than the proof's")
    return VerifiedApplication(application, applicant_of(signer.certificate))


def applicant_of(certificate: x509.Certificate) -> Applicant:
    """The applicant as the signing certificate states them (基本4情報: name, sex, birth date);
    :class:`ApplicationNotProven` if it does not state them exactly once each, well-formed."""
    facts = _other_names(certificate)
    name, sex, birth = facts.get(OID_NAME), facts.get(OID_SEX), facts.get(OID_BIRTH)
    if name is None or sex not in _SEXES or birth is None:
        raise _no_facts("the name, sex or birth date is missing")
    family, given = _split_name(name)
    return Applicant(family, given, _birth_date(birth), _SEXES[sex])


def _no_facts(why: str) -> ApplicationNotProven:
    return ApplicationNotProven("signing_certificate_facts", f"the signing certificate's facts: {why}")


def _other_names(certificate: x509.Certificate) -> dict[x509.ObjectIdentifier, str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise _no_facts("no subjectAltName") from None
    facts: dict[x509.ObjectIdentifier, str] = {}
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id in facts:
            raise _no_facts("a fact stated twice")
        facts[other.type_id] = _utf8_string(other.value)
    return facts


def _utf8_string(der: bytes) -> str:
    """The text of a DER UTF8String (exactly its DER: nothing after it, no other encoding)."""
    try:
        value, rest = decoder.decode(der, asn1Spec=char.UTF8String())
        if rest or bytes(encoder.encode(value)) != der:
            raise _no_facts("a fact is not DER")
        text = str(value)
    except (PyAsn1Error, UnicodeError):
        raise _no_facts("a fact is not a UTF8String") from None
    if not text or any(unicodedata.category(c)[0] == "C" for c in text):
        raise _no_facts("a fact is empty or holds control characters")
    return text


def _split_name(name: str) -> tuple[str, str]:
    """氏 and 名: the name split at its first space (full-width as J-LIS writes it, or ASCII)."""
    for space in _NAME_SPACES:
        family, found, given = name.strip().partition(space)
        if found and family.strip() and given.strip():
            return family.strip(), given.strip()
    raise _no_facts("the name is not a family and a given name")


def _birth_date(text: str) -> dt.date:
    """``EYYYYMMDD``: the era digit (1 明治 … 5 令和), then the Gregorian date."""
    if len(text) != 9 or not text.isascii() or not text.isdigit() or text[0] not in "12345":
        raise _no_facts("the birth date is not EYYYYMMDD")
    try:
        birth = dt.date(int(text[1:5]), int(text[5:7]), int(text[7:9]))
    except ValueError:
        raise _no_facts("the birth date is not a date") from None
    if era_birth_date(birth) != text:
        raise _no_facts("the birth date's era is not its date's")
    return birth
