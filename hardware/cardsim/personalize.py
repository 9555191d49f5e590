"""Personalisation (カード発行): turn keys, certificates and a holder's facts into a card file.

``issue_card`` generates the card's two RSA-2048 key pairs, asks the JPKI test authority for the
user-authentication and signing certificates (which it records under the holder's municipality
code, the 住基ネット mapping), sets the PINs and writes the card state. ``renew_card`` is the
counter's 更新: a new key pair on the card and a renewed certificate that names the old serial.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from center.authority.ca import SigningFacts, generate_key
from center.authority.municipality import CHIYODA, municipality_code
from center.authority.service import AuthorityService
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
    municipality: str = CHIYODA  # 地方公共団体コード of the city above


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
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown card profile {profile!r}: choose from {sorted(PROFILES)}")
    holder = holder or Holder()
    my_number = holder.my_number or random_my_number()
    if not is_valid(my_number):
        raise ValueError("My Number has a wrong check digit")
    municipality = municipality_code(holder.municipality)
    chosen = {AUTH_PIN: pin, SUPPORT_PIN: support_pin or pin}
    if sign_password is not None:
        chosen[SIGN_PASSWORD] = sign_password
    for key, value in chosen.items():  # before the authority records any certificate
        reason = POLICIES[key].check(value.encode("ascii"))
        if reason:
            raise ValueError(reason)
    now = now or dt.datetime.now(dt.UTC)
    with AuthorityService.open(authority_dir, db_url=authority_db, now=now) as authority:
        return _personalise(out, authority, holder, my_number, municipality, pin, sign_password,
                            support_pin, profile, now)


def _personalise(
    out: Path,
    authority: AuthorityService,
    holder: Holder,
    my_number: str,
    municipality: str,
    pin: str,
    sign_password: str | None,
    support_pin: str | None,
    profile: str,
    now: dt.datetime,
) -> CardState:
    auth_key = generate_key()
    auth_cert = authority.issue_user_auth(
        auth_key.public_key(), birth_date=holder.birth_date, municipality=municipality, now=now
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
        signing = authority.issue_signing(
            sign_key.public_key(),
            SigningFacts(
                holder.name, holder.address, holder.birth_date, holder.sex,
                holder.prefecture, holder.city,
            ),
            municipality=municipality,
            now=now,
        )
        sign_cert = signing.public_bytes(serialization.Encoding.DER)
        sign_ca = authority.authority.issuer_of(signing).der
        secrets_by_key[SIGN_PASSWORD] = sign_password
    state = CardState(
        label=PROFILES[profile].value,
        auth_cert_needs_pin=profile != "card",
        auth_cert=auth_cert.public_bytes(serialization.Encoding.DER),
        auth_ca_cert=authority.authority.issuer_of(auth_cert).der,
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
    authority: AuthorityService,
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
    key = generate_key()
    if x509.load_der_x509_certificate(state.auth_cert).serial_number == serial:
        renewed = authority.renew(serial, key.public_key(), birth_date=birth,
                                  municipality=municipality, now=now)
        state.auth_cert = renewed.public_bytes(serialization.Encoding.DER)
        state.auth_key_pem = _pem(key)
        state.auth_ca_cert = authority.authority.issuer_of(renewed).der
    elif state.sign_cert and x509.load_der_x509_certificate(state.sign_cert).serial_number == serial:
        old = x509.load_der_x509_certificate(state.sign_cert)
        prefecture, city = (str(a.value) for a in old.subject.get_attributes_for_oid(
            NameOID.LOCALITY_NAME))
        facts = SigningFacts(holder.name, holder.address, birth, holder.sex, prefecture, city)
        renewed = authority.renew(serial, key.public_key(), facts=facts,
                                  municipality=municipality, now=now)
        state.sign_cert = renewed.public_bytes(serialization.Encoding.DER)
        state.sign_key_pem = _pem(key)
        state.sign_ca_cert = authority.authority.issuer_of(renewed).der
    else:
        raise ValueError(f"the card holds no certificate with serial {serial}")
    store.save(state)
    return renewed


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
