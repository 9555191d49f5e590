"""The JPKI application (公的個人認証AP) as the kiosk uses it.

The kiosk's whole card step is: select the application, read the user-authentication certificate,
ask how many PIN tries are left, VERIFY the PIN the resident typed, and have the card sign the
center's challenge — seven APDUs on a contact or contactless link that takes extended APDUs:

    SELECT AID · READ BINARY (SFI 0A, whole file) · SELECT 0018 · VERIFY (query) · VERIFY
    · SELECT 0017 · COMPUTE DIGITAL SIGNATURE

The signing path (署名用電子証明書, for what the resident signs: a usage registration) is the same
with the signing password (``001B``), the signing certificate (``0001``, readable only after the
password) and its CA certificate (``0002``, free), and the signing key (``001A``):
:class:`hardware.card.signing.SigningStep`.

:meth:`JpkiSession.logout` re-selects the application, which clears every verified PIN.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hardware.card.apdu import CommandApdu
from hardware.card.errors import (
    ApduError,
    CardDataError,
    FileNotFoundOnCardError,
    InvalidPinError,
    NotMyNumberCardError,
    PinBlockedError,
    ProtocolError,
)
from hardware.card.files import read_whole_file, select_file
from hardware.card.iso7816 import Iso7816Channel, raise_for_sw
from hardware.card.pin import PinBuffer, wipe
from hardware.card.profile import (
    AID,
    SHA256_DIGEST_INFO_PREFIX,
    SIGNING_PASSWORD,
    USER_AUTH_PIN,
    JpkiFile,
    PinPolicy,
)
from hardware.card.status import SW, is_tries_left

INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
CLA_JPKI = 0x80
INS_COMPUTE_SIGNATURE = 0x2A
TOKEN_LABEL_SIZE = 32


@dataclass(frozen=True)
class CardCertificate:
    """A certificate read from the card, checked to be exactly one DER X.509 certificate."""

    der: bytes
    certificate: x509.Certificate

    @classmethod
    def from_der(cls, der: bytes) -> CardCertificate:
        if len(der) < 4 or der[0] != 0x30:
            raise CardDataError("certificate on the card is not DER (no SEQUENCE)")
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise CardDataError(f"certificate on the card is not DER: {exc}") from exc
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise CardDataError("certificate on the card does not hold an RSA key")
        return cls(der, certificate)

    @property
    def serial_number(self) -> int:
        """The serial: how the center and the authority know this certificate (never a name)."""
        return self.certificate.serial_number

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        key = self.certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return key


class UserAuthCertificate(CardCertificate):
    """利用者証明用電子証明書: proves the holder is present; carries no personal facts."""

    @classmethod
    def parse(cls, der: bytes) -> UserAuthCertificate:
        checked = CardCertificate.from_der(der)
        return cls(checked.der, checked.certificate)


class SigningCertificate(CardCertificate):
    """署名用電子証明書: names the holder (the four basic facts in its subjectAltName), so it is
    read only after the signing password and never logged."""

    @classmethod
    def parse(cls, der: bytes) -> SigningCertificate:
        checked = CardCertificate.from_der(der)
        return cls(checked.der, checked.certificate)

    def __repr__(self) -> str:  # the holder's facts never reach a log through repr
        return f"SigningCertificate(serial={self.serial_number})"


def digest_info_sha256(message: bytes) -> bytes:
    """DigestInfo of SHA-256(message): what the card signs (it pads but does not hash)."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


class PinSlot:
    """One piece of reference data in an application: tries query, VERIFY, change."""

    def __init__(self, channel: Iso7816Channel, fid: int, policy: PinPolicy) -> None:
        self.channel = channel
        self.fid = fid
        self.policy = policy

    def tries_left(self) -> int:
        """Empty VERIFY: ``63 Cx``. Costs no try; any other answer means a broken card."""
        select_file(self.channel, self.fid)
        response = self.channel.transmit(CommandApdu(0x00, INS_VERIFY, 0x00, 0x80))
        if response.sw == SW.REFERENCE_DATA_BLOCKED:
            return 0
        if not is_tries_left(response.sw) or response.data:
            raise ProtocolError(f"tries query answered {response.sw:04X}, not 63Cx")
        tries = response.sw & 0x0F
        if tries > self.policy.max_tries:
            raise ProtocolError(f"card claims {tries} tries for a {self.policy.max_tries}-try PIN")
        return tries

    def verify(self, pin: PinBuffer, *, selected: bool = False) -> None:
        """VERIFY the value in ``pin``; the buffer is wiped whatever happens.

        Raises :class:`InvalidPinFormatError` before sending anything if the form is wrong,
        :class:`InvalidPinError` with ``attempts_remaining`` on a wrong PIN, and
        :class:`PinBlockedError` when the card refuses because the PIN is locked.
        """
        self._send(pin, bytes((0x00, INS_VERIFY, 0x00, 0x80)), select=not selected)

    def change(self, new: PinBuffer) -> None:
        """CHANGE REFERENCE DATA after a successful :meth:`verify` in this session."""
        self._send(new, bytes((0x00, INS_CHANGE_REFERENCE_DATA, 0x01, 0x80)), select=False)

    def _send(self, pin: PinBuffer, header: bytes, *, select: bool) -> None:
        """One PIN-bearing command; ``pin`` and every copy of its value are wiped afterwards."""
        try:
            value = pin.validated()
            try:
                if select:
                    select_file(self.channel, self.fid)
                response = self.channel.send_secret(header, value)
            finally:
                wipe(value)
        finally:
            pin.wipe()
        self._judge(response.sw, response.data)

    def _judge(self, sw: int, data: bytes) -> None:
        if data:
            raise ProtocolError("card answered a PIN command with data")
        if sw == SW.OK:
            return
        if is_tries_left(sw):
            if sw & 0x0F == 0:
                raise PinBlockedError(sw)
            raise InvalidPinError(sw, sw & 0x0F)
        raise_for_sw(sw, data)


class JpkiSession:
    """An open JPKI application on one card; selects itself in the constructor."""

    def __init__(self, channel: Iso7816Channel) -> None:
        self.channel = channel
        self.auth_pin = PinSlot(channel, JpkiFile.AUTH_PIN, USER_AUTH_PIN)
        self.signing_password = PinSlot(channel, JpkiFile.SIGN_PIN, SIGNING_PASSWORD)
        self._auth_certificate: UserAuthCertificate | None = None
        self._signing_certificate: SigningCertificate | None = None
        self.select()

    def select(self) -> None:
        """SELECT the JPKI AP by name; also logs out every PIN."""
        try:
            self.channel.send(CommandApdu(0x00, 0xA4, 0x04, 0x0C, AID.JPKI.value))
        except FileNotFoundOnCardError as exc:
            raise NotMyNumberCardError("the card has no JPKI application") from exc

    def read_token_label(self) -> str:
        """EF ``0006``: e.g. ``JPKIAPICCTOKEN2`` (card) or ``JPKIAPGPSETOKEN`` (Android)."""
        raw = read_whole_file(self.channel, JpkiFile.TOKEN_INFO)[:TOKEN_LABEL_SIZE]
        try:
            return raw.decode("ascii").rstrip(" \x00")
        except UnicodeDecodeError as exc:
            raise CardDataError("token label is not ASCII") from exc

    def read_user_auth_certificate(self) -> UserAuthCertificate:
        """EF ``000A`` in one READ BINARY by short file id (free on the plastic card)."""
        der = read_whole_file(self.channel, JpkiFile.AUTH_CERT)
        certificate = UserAuthCertificate.parse(der)
        self._auth_certificate = certificate
        return certificate

    def read_certificate(self, fid: JpkiFile) -> CardCertificate:
        """Any certificate EF (CA certificates are free, the signing one needs the password)."""
        return CardCertificate.from_der(read_whole_file(self.channel, fid))

    def read_signing_certificate(self) -> SigningCertificate:
        """EF ``0001`` in one READ BINARY by short file id; ``69 82``
        (:class:`SecurityStatusError`) until the signing password is verified."""
        certificate = SigningCertificate.parse(read_whole_file(self.channel, JpkiFile.SIGN_CERT))
        self._signing_certificate = certificate
        return certificate

    def read_signing_ca_certificate(self) -> CardCertificate:
        """EF ``0002``: the certificate of the CA generation that signed the signing certificate
        (free to read): the issuer of the signing certificate's OCSP CertID."""
        return self.read_certificate(JpkiFile.SIGN_CA_CERT)

    def sign_with_auth_key(self, message: bytes) -> bytes:
        """Have the card sign SHA-256(``message``) with the user-authentication key.

        Needs the PIN verified. The signature is checked against the certificate read in this
        session (if any), so a card that answers garbage is caught here, not at the center.
        """
        return self._sign(JpkiFile.AUTH_KEY, message, self._auth_certificate)

    def sign_with_signing_key(self, message: bytes) -> bytes:
        """Have the card sign SHA-256(``message``) with the signing key (署名用秘密鍵).

        Needs the signing password verified. The signature is checked against the signing
        certificate read in this session (if any), as :meth:`sign_with_auth_key` does.
        """
        return self._sign(JpkiFile.SIGN_KEY, message, self._signing_certificate)

    def _sign(self, key_fid: int, message: bytes, certificate: CardCertificate | None) -> bytes:
        select_file(self.channel, key_fid)
        command = CommandApdu(
            CLA_JPKI, INS_COMPUTE_SIGNATURE, 0x00, 0x80, digest_info_sha256(message), le=256
        )
        signature = self.channel.send(command)
        expected = certificate.public_key.key_size // 8 if certificate else 256
        if len(signature) != expected:
            raise CardDataError(f"signature of {len(signature)} bytes, expected {expected}")
        if certificate is not None:
            try:
                certificate.public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature as exc:
                raise CardDataError("the card's signature does not verify") from exc
        return signature

    def logout(self) -> None:
        """Forget every verified PIN on the card (re-select the application)."""
        self._auth_certificate = None
        self._signing_certificate = None
        with contextlib.suppress(ApduError):
            self.select()
