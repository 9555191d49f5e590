"""What a municipality offers one resident right now (交付可能な証明書): asked by the center after
the card's proof, shown by the kiosk before the resident chooses.

Two parts. The public part (per certificate: fee, copies, whether it can be issued now and, if
not, a reason the center may read: ``refused_by_municipality`` for every reason about the person,
the code itself only for one of the settings, :data:`~center.municipal.refusals.PUBLIC`) the
center may read and combine with its calendar. The personal part (the household's members by
name and relationship, the tax years and kinds, the options allowed, and the detailed reason a
certificate cannot be issued, ``reasons``) is sealed to the terminal (:mod:`documents.offer`):
the center relays it unread. A holder who cannot use the service at all is refused in the same
way: the generic code, the reason sealed.

A holder known here by their usage registration (本籍地の利用登録, not a resident here) is offered
the register's certificates only (戸籍証明書, 戸籍の附票の写し, of the entry the registration
matched), with no household, tax years nor My Number in the personal part.

Whether a certificate "can be issued" is the issuer's own eligibility, tried with the options a
resident choosing only for themselves would pick (their own entries, their own register's
individual record, the newest tax year that passes), so the kiosk never offers what will be
refused for the holder alone; other choices (a household member, an older year) are checked when
ordered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from center.municipal.eligibility import REGISTERED_CERTIFICATES, Holder, check_holder, check_item
from center.municipal.holder_request import HolderRequest
from center.municipal.issuer import Issuer, load_settings
from center.municipal.records import RecordStore, Resident
from center.municipal.refusals import Refused
from center.municipal.requests import (
    AttachmentOptions,
    BadIssueRequest,
    IssueItem,
    NoOptions,
    Options,
    RegisterOptions,
    RegisterScope,
    ResidentRecordOptions,
    TaxOptions,
)
from center.municipal.settings import MunicipalSettings
from documents import JST, CertificateType
from documents.offer import seal_offer


@dataclass(frozen=True)
class OfferRequest(HolderRequest):
    """The center asking what one session's card holder may be issued."""

    where = "offer"


@dataclass(frozen=True)
class ResidentOffer:
    public: dict[str, Any]
    sealed: bytes


def _offered(kind: CertificateType, holder: Holder) -> bool:
    """Whether ``kind`` is for ``holder`` at all: every certificate for a resident, the
    register's for a holder known by a usage registration."""
    return isinstance(holder, Resident) or kind in REGISTERED_CERTIFICATES


def _trials(
    kind: CertificateType, holder: Holder, settings: MunicipalSettings, today: dt.date
) -> list[Options]:
    """The options a resident choosing only for themselves could pick, most likely first."""
    offer = settings.offer(kind)
    if kind in (CertificateType.RESIDENT_RECORD, CertificateType.RESIDENT_RECORD_ENTRIES):
        assert isinstance(holder, Resident)
        return [ResidentRecordOptions(members=(holder.id,))]
    if kind is CertificateType.TAX and offer is not None:
        return [TaxOptions(offer.tax_kinds[0], year) for year in settings.tax_years_offered(today)]
    if kind is CertificateType.FAMILY_REGISTER:
        return [RegisterOptions(RegisterScope.INDIVIDUAL)]
    if kind is CertificateType.FAMILY_REGISTER_ATTACHMENT:
        return [AttachmentOptions()]
    return [NoOptions()]


def _household(holder: Holder, records: RecordStore) -> list[dict[str, Any]]:
    """A resident's household members on the register, by name; none for a registered holder."""
    if not isinstance(holder, Resident):
        return []
    return [
        {
            "member": member.id,
            "name": member.name,
            "name_kana": member.name_kana,
            "relationship": member.relationship,
            "holder": member.id == holder.id,
        }
        for member in records.household(holder.household_id).members
        if member.status in ("resident", "moving_out")
    ]


def make_offer(issuer: Issuer, request: OfferRequest) -> ResidentOffer:
    """The offer for the card's holder (raises :class:`Refused`, its reason sealed to the
    terminal, when they cannot use the service)."""
    checked = request.check(issuer)
    now, terminal_key, proven = checked.now, checked.terminal_key, checked.proven
    registration = issuer.registration(proven)
    today = now.astimezone(JST).date()
    with issuer.engine.connect() as connection:
        settings = load_settings(connection)
        records = RecordStore(connection)
        try:
            holder = check_holder(proven.serial, registration, records, settings, now)
        except Refused as refused:
            raise issuer.sealed(refused, request.session_id, request.terminal_id, terminal_key, now) from None
        certificates: dict[str, Any] = {}
        reasons: dict[str, str] = {}  # sealed: why not, in detail
        years: list[int] = []
        for kind, offer in settings.offers.items():
            if not _offered(kind, holder):
                continue
            reason: Refused | None = None
            for options in _trials(kind, holder, settings, today):
                try:
                    check_item(IssueItem(kind, options, 1), holder, records, settings, now)
                except Refused as refused:
                    reason = reason or refused
                    continue
                reason = None
                if isinstance(options, TaxOptions):
                    years.append(options.tax_year)
                break
            certificates[kind.value] = {
                "fee": offer.fee,
                "max_copies": offer.max_copies,
                "available": reason is None,
                "reason": None if reason is None else reason.public_code,
            }
            if reason is not None:
                reasons[kind.value] = reason.code.value
        household = _household(holder, records)
    resident = isinstance(holder, Resident)
    tax = settings.offer(CertificateType.TAX)
    record = settings.offer(CertificateType.RESIDENT_RECORD)
    personal = {
        "household": household,
        "tax_years": years,
        "tax_kinds": [] if tax is None or not resident else [kind.value for kind in tax.tax_kinds],
        "my_number": record is not None and record.my_number and resident,
        "reasons": reasons,
    }
    sealed = seal_offer(
        personal,
        key=issuer.key,
        session_id=request.session_id,
        terminal_id=request.terminal_id,
        holder_certificate=proven.certificate_hash,
        terminal_public_key=terminal_key,
        now=now,
    )
    public = {
        "municipality": settings.municipality,
        "name": settings.name,
        "name_en": settings.name_en,
        "max_copies": settings.max_copies,
        "certificates": certificates,
    }
    return ResidentOffer(public, sealed)


__all__ = ["BadIssueRequest", "OfferRequest", "ResidentOffer", "make_offer"]
