"""Personalisation (カード発行): turn keys, certificates and a holder's facts into a card file.

:func:`card_request` checks what a new card is made of (the holder's My Number, the PINs, the
profile) before anything is issued. :func:`personalize` generates the card's two RSA-2048 key pairs,
has the :class:`~hardware.cardsim.issuer.CertificateIssuer` it is handed issue the user-authentication
and signing certificates, sets the PINs and writes the card state. :func:`renew_card` is the
counter's 更新: a new key pair on the card and a renewed certificate that names the old serial.

The issuer is handed in: ``koufu.cards`` connects the JPKI authority simulator
(``issue_card``, ``koufu card issue``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hardware.card.mynumber import is_valid, random_my_number
from hardware.card.profile import TokenLabel
from hardware.cardsim.filesystem import (
    AUTH_PIN,
    POLICIES,
    SIGN_PASSWORD,
    SUPPORT_CHECK_A,
    SUPPORT_CHECK_B,
    SUPPORT_PIN,
    check_number_b,
)
from hardware.cardsim.issuer import CertificateIssuer, Holder, SigningSubject
from hardware.cardsim.state import CardState, CardStore, HolderFacts, ReferenceData

__all__ = ["KEY_SIZE", "PROFILES", "CardRequest", "Holder", "card_request", "personalize", "renew_card"]

PROFILES = {"card": TokenLabel.MY_NUMBER_CARD, "android": TokenLabel.ANDROID}
KEY_SIZE = 2048  # the card's RSA key pairs, made on the chip


@dataclass(frozen=True)
class CardRequest:
    """A card to personalise, every part checked: the holder (with a valid My Number), the PINs and
    the signing password it is to hold (``None``: no signing certificate), its profile."""

    holder: Holder
    pin: str
    support_pin: str
    sign_password: str | None
    profile: str


def card_request(
    holder: Holder | None = None,
    *,
    pin: str = "1234",
    sign_password: str | None = "ABC123",
    support_pin: str | None = None,
    profile: str = "card",
    check_municipality: Callable[[str], object] | None = None,
) -> CardRequest:
    """What a new card is made of, refused (``ValueError``) before anything is issued.

    ``support_pin`` defaults to ``pin`` (residents are asked to set the same 4 digits).
    ``sign_password=None`` asks for no signing certificate (holders under 15). A holder without a
    My Number is given a random valid one. ``check_municipality`` is the issuer's own check of the
    holder's 地方公共団体コード; it runs after the My Number's and before the PINs'.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown card profile {profile!r}: choose from {sorted(PROFILES)}")
    holder = holder or Holder()
    my_number = holder.my_number or random_my_number()
    if not is_valid(my_number):
        raise ValueError("My Number has a wrong check digit")
    if check_municipality is not None:
        check_municipality(holder.municipality)
    chosen = {AUTH_PIN: pin, SUPPORT_PIN: support_pin or pin}
    if sign_password is not None:
        chosen[SIGN_PASSWORD] = sign_password
    for key, value in chosen.items():
        reason = POLICIES[key].check(value.encode("ascii"))
        if reason:
            raise ValueError(reason)
    return CardRequest(
        dataclasses.replace(holder, my_number=my_number), pin, support_pin or pin, sign_password, profile
    )


def personalize(
    out: Path, issuer: CertificateIssuer, request: CardRequest, *, now: dt.datetime | None = None
) -> CardState:
    """Create the card state file ``out`` for ``request`` and return the state.

    The issuer records both certificates under ``request.holder.municipality``.
    """
    now = now or dt.datetime.now(dt.UTC)
    holder = request.holder
    auth_key = _key_pair()
    sign_key = None if request.sign_password is None else _key_pair()
    issued = issuer.issue(
        holder, auth_key.public_key(), None if sign_key is None else sign_key.public_key(), now=now
    )
    facts = HolderFacts(
        my_number=holder.my_number,
        name=holder.name,
        address=holder.address,
        birth_date=f"{holder.birth_date:%Y%m%d}",
        sex=holder.sex,
        card_expiry_year=str(issued.user_auth.certificate.not_valid_after_utc.year),
        security_code=f"{secrets.randbelow(10000):04d}",
    )
    secrets_by_key = {
        AUTH_PIN: request.pin,
        SUPPORT_PIN: request.support_pin,
        SUPPORT_CHECK_A: holder.my_number,
        SUPPORT_CHECK_B: check_number_b(facts),
    }
    sign_cert = sign_ca = None
    if sign_key is not None and request.sign_password is not None:
        if issued.signing is None:
            raise ValueError("the issuer gave no signing certificate")
        sign_cert = _der(issued.signing.certificate)
        sign_ca = _der(issued.signing.issuer)
        secrets_by_key[SIGN_PASSWORD] = request.sign_password
    state = CardState(
        label=PROFILES[request.profile].value,
        auth_cert_needs_pin=request.profile != "card",
        auth_cert=_der(issued.user_auth.certificate),
        auth_ca_cert=_der(issued.user_auth.issuer),
        auth_key_pem=_pem(auth_key),
        sign_cert=sign_cert,
        sign_ca_cert=sign_ca,
        sign_key_pem=_pem(sign_key) if sign_key else None,
        holder=facts,
        pins={
            key: ReferenceData.create(POLICIES[key], value.encode("ascii"))
            for key, value in secrets_by_key.items()
        },
    )
    CardStore(Path(out)).save(state)
    return state


def renew_card(
    card: Path,
    issuer: CertificateIssuer,
    serial: int,
    *,
    municipality: str | None = None,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """更新 at the counter: the certificate ``serial`` on ``card`` is replaced.

    The card gets a new key pair for it and the renewed certificate (new serial, the old one
    recorded as previous); PINs and counters stay. ``municipality`` changes the mapping (転入).
    The birth date and, for the signing certificate, the four facts come from the card, as the
    counter would take them from the resident record: the authority keeps none of them.
    """
    store = CardStore(Path(card))
    state = store.load(POLICIES)
    holder = state.holder
    birth = dt.datetime.strptime(holder.birth_date, "%Y%m%d").date()
    key = _key_pair()
    if x509.load_der_x509_certificate(state.auth_cert).serial_number == serial:
        renewed = issuer.renew_user_auth(
            serial, key.public_key(), birth_date=birth, municipality=municipality, now=now
        )
        state.auth_cert = _der(renewed.certificate)
        state.auth_key_pem = _pem(key)
        state.auth_ca_cert = _der(renewed.issuer)
    elif state.sign_cert and x509.load_der_x509_certificate(state.sign_cert).serial_number == serial:
        old = x509.load_der_x509_certificate(state.sign_cert)
        prefecture, city = (str(a.value) for a in old.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME))
        subject = SigningSubject(holder.name, holder.address, birth, holder.sex, prefecture, city)
        renewed = issuer.renew_signing(serial, key.public_key(), subject, municipality=municipality, now=now)
        state.sign_cert = _der(renewed.certificate)
        state.sign_key_pem = _pem(key)
        state.sign_ca_cert = _der(renewed.issuer)
    else:
        raise ValueError(f"the card holds no certificate with serial {serial}")
    store.save(state)
    return renewed.certificate


def _key_pair() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key pair, as the chip makes it."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
