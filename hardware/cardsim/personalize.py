"""Personalisation (カード発行): turn keys, certificates and a holder's facts into a card file.

``issue_card`` generates the card's two RSA-2048 key pairs, asks the JPKI test authority for the
user-authentication and signing certificates, sets the PINs and writes the card state.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority.ca import SigningFacts, TestAuthority, generate_key
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
from hardware.cardsim.state import CardState, CardStore, HolderFacts, ReferenceData

PROFILES = {"card": TokenLabel.MY_NUMBER_CARD, "android": TokenLabel.ANDROID}


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
) -> CardState:
    """Create a card state file at ``out`` and return the state.

    ``support_pin`` defaults to ``pin`` (residents are asked to set the same 4 digits).
    ``sign_password=None`` issues no signing certificate (holders under 15).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown card profile {profile!r}: choose from {sorted(PROFILES)}")
    holder = holder or Holder()
    my_number = holder.my_number or random_my_number()
    if not is_valid(my_number):
        raise ValueError("My Number has a wrong check digit")
    now = now or dt.datetime.now(dt.UTC)
    authority = TestAuthority.load_or_create(authority_dir, now=now)

    auth_key = generate_key()
    auth_cert = authority.issue_user_auth_certificate(
        auth_key.public_key(), birth_date=holder.birth_date, now=now
    )
    facts = HolderFacts(
        my_number=my_number,
        name=holder.name,
        address=holder.address,
        birth_date=f"{holder.birth_date:%Y%m%d}",
        sex=holder.sex,
        card_expiry_year=str(auth_cert.not_valid_after_utc.year),
        security_code=f"{secrets.randbelow(10000):04d}",
    )
    secrets_by_key = {
        AUTH_PIN: pin,
        SUPPORT_PIN: support_pin or pin,
        SUPPORT_CHECK_A: my_number,
        SUPPORT_CHECK_B: check_number_b(facts),
    }
    sign_key = sign_cert = sign_ca = None
    if sign_password is not None:
        sign_key = generate_key()
        sign_cert = authority.issue_signing_certificate(
            sign_key.public_key(),
            SigningFacts(
                holder.name, holder.address, holder.birth_date, holder.sex,
                holder.prefecture, holder.city,
            ),
            now=now,
        ).public_bytes(serialization.Encoding.DER)
        sign_ca = authority.signing.der
        secrets_by_key[SIGN_PASSWORD] = sign_password
    state = CardState(
        label=PROFILES[profile].value,
        auth_cert_needs_pin=profile != "card",
        auth_cert=auth_cert.public_bytes(serialization.Encoding.DER),
        auth_ca_cert=authority.user_auth.der,
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


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
