"""The kiosk's signing step (署名用電子証明書による署名): the resident signs what they send their
municipality (a usage registration, 利用登録申請) with the signing password (署名用パスワード).

:class:`SigningStep` is what the kiosk calls, in this order, like
:class:`~hardware.card.holder.HolderAuthentication`::

    reading = step.read()                      # CA certificate + password tries left (no try spent)
    signed = step.sign(password, message)      # VERIFY, the signing certificate, the signature
    step.finish()                              # log the card out and reset it

Eight APDUs on a link that takes extended APDUs::

    SELECT AID · READ BINARY (SFI 02: signing CA certificate) · SELECT 001B · VERIFY (query)
    · VERIFY · READ BINARY (SFI 01: signing certificate) · SELECT 001A · COMPUTE DIGITAL SIGNATURE

VERIFY with the password is sent only by :meth:`SigningStep.sign`, that is when the resident
pressed enter; the password travels in a :class:`~hardware.card.pin.PinBuffer` of the
:data:`~hardware.card.profile.SIGNING_PASSWORD` policy (6-16 of ``A-Z0-9``, 5 tries) and is wiped
whatever happens. The signature is checked against the signing certificate read, and that
certificate against the CA certificate read, so a broken or lying card is caught at the kiosk.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from hardware.card.errors import CardDataError, FileNotFoundOnCardError, NoSigningCertificateError
from hardware.card.jpki import CardCertificate, SigningCertificate
from hardware.card.pin import PinBuffer
from hardware.card.profile import SIGNING_PASSWORD
from hardware.card.step import CardStep


@dataclass(frozen=True)
class SigningReading:
    """What the kiosk learns before the password: the signing CA certificate and tries left."""

    ca_certificate: CardCertificate
    tries_left: int

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


@dataclass(frozen=True)
class SignedMessage:
    """The card's signature over a message (RSA PKCS#1 v1.5, SHA-256), the signing certificate
    that verifies it and the CA certificate that issued that one."""

    certificate: SigningCertificate
    ca_certificate: CardCertificate
    signature: bytes

    def __repr__(self) -> str:  # the certificate names the holder: only its serial is shown
        return f"SignedMessage(serial={self.certificate.serial_number}, {len(self.signature)} bytes)"


def signing_password_buffer() -> PinBuffer:
    """An empty buffer for the signing password (署名用パスワード)."""
    return PinBuffer(SIGNING_PASSWORD)


class SigningStep(CardStep):
    _ca_certificate: CardCertificate | None = None  # read before the password
    _password_selected = False  # the password's file selected by read(): sign() need not again

    def read(self) -> SigningReading:
        """The signing CA certificate and the password's tries left, no try spent;
        :class:`NoSigningCertificateError` on a card without a signing certificate."""
        try:
            self._ca_certificate = self.jpki.read_signing_ca_certificate()
            tries = self.jpki.signing_password.tries_left()
        except FileNotFoundOnCardError as exc:
            raise NoSigningCertificateError("the card holds no signing certificate") from exc
        self._password_selected = True
        return SigningReading(self._ca_certificate, tries)

    def sign(self, password: PinBuffer, message: bytes) -> SignedMessage:
        """VERIFY ``password`` (wiped whatever happens), read the signing certificate, sign
        SHA-256(``message``) with the signing key.

        Raises :class:`InvalidPinFormatError` (nothing sent), :class:`InvalidPinError` (with
        ``attempts_remaining``), :class:`PinBlockedError`, :class:`NoSigningCertificateError`, or
        :class:`CardDataError` when what the card gives does not verify.
        """
        if password.policy != SIGNING_PASSWORD:
            password.wipe()
            raise ValueError("the signing password travels in a SIGNING_PASSWORD buffer")
        selected, self._password_selected = self._password_selected, False
        try:
            if self._ca_certificate is None:
                self._ca_certificate = self.jpki.read_signing_ca_certificate()
                selected = False
            self.jpki.signing_password.verify(password, selected=selected)
        except FileNotFoundOnCardError as exc:
            raise NoSigningCertificateError("the card holds no signing certificate") from exc
        finally:
            password.wipe()
        certificate = self.jpki.read_signing_certificate()
        _check_issued_by(certificate, self._ca_certificate)
        signature = self.jpki.sign_with_signing_key(message)
        return SignedMessage(certificate, self._ca_certificate, signature)

    def finish(self) -> None:
        """Log the card out and reset it; quiet if the card is already gone."""
        self._ca_certificate = None
        self._password_selected = False
        super().finish()


def _check_issued_by(certificate: CardCertificate, issuer: CardCertificate) -> None:
    """The signing certificate must be signed by the CA certificate the card gave with it: the
    issuer its OCSP question names."""
    try:
        certificate.certificate.verify_directly_issued_by(issuer.certificate)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise CardDataError("the signing certificate is not issued by the card's signing CA") from exc
