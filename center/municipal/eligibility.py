"""Who may have which certificate at a convenience store, and now (交付可否の判定).

The rules, in the order they are checked, are those the real service applies (see
``docs/municipal.md``): first the card holder (a registered card, usable since yesterday, a
resident who has not moved out, filed a move-out or died, not protected nor stopped, old enough,
no pending characters, a name within what the certificates can print, not moved in today), then
each item (offered, within its hours, copies within the limits, and the certificate's own
conditions).

A holder whose card links to nobody here may be known by an approved usage registration
(本籍地の利用登録): then they are a :class:`RegisteredEntry`, their entry in a family register
here, and may have that register's certificates only (戸籍証明書, 戸籍の附票の写し); a
registration pending or suspended refuses them. A :data:`Holder` is either. Each refusal is a
:class:`~center.municipal.refusals.Refused` with a stable code; nothing is issued for a request
with any refusal.

What passes is an :class:`Eligible` item: the facts its certificate will print, read in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from center.municipal.records import (
    FamilyRegister,
    Household,
    RecordStore,
    RegisterMember,
    Resident,
    SealRegistration,
    TaxAssessment,
)
from center.municipal.refusals import RefusalCode, Refused
from center.municipal.registrations import Registration, Status
from center.municipal.requests import (
    AttachmentOptions,
    IssueItem,
    IssueRequest,
    RegisterOptions,
    ResidentRecordOptions,
    TaxOptions,
)
from center.municipal.settings import MunicipalSettings, Offer
from documents import JST, CertificateType

_LIVING_HERE = ("resident", "moving_out")  # still on the register (a move-out filed is not yet done)
# what the certificate layouts hold (氏名 with the space between, 住所 with building and room)
NAME_LIMIT = 30
ADDRESS_LIMIT = 100
# what a holder known by a usage registration may have: the register's certificates
REGISTERED_CERTIFICATES = (CertificateType.FAMILY_REGISTER, CertificateType.FAMILY_REGISTER_ATTACHMENT)


@dataclass(frozen=True)
class RegisteredEntry:
    """A card holder who does not live here, known by their approved usage registration
    (本籍地の利用登録): the entry it matched in a family register here (戸籍, its position)."""

    registration_id: str
    register_id: int
    position: int


Holder = Resident | RegisteredEntry


@dataclass(frozen=True)
class Eligible:
    """One item that may be issued, with the facts its certificate prints."""

    item: IssueItem
    offer: Offer
    holder: Holder
    subjects: tuple[Resident, ...] = ()  # whose resident-register entries are printed
    household: Household | None = None
    seal: SealRegistration | None = None
    tax: TaxAssessment | None = None
    register: FamilyRegister | None = None
    entry: RegisterMember | None = None  # the holder's own entry in ``register``

    @property
    def resident(self) -> Resident:
        """The holder, a resident here (every certificate but the register's is a resident's)."""
        assert isinstance(self.holder, Resident)
        return self.holder

    @property
    def subject_ids(self) -> tuple[int, ...]:
        """The persons whose data the copy carries (for the issuance history)."""
        if self.register is not None:
            return tuple(m.resident_id for m in self.register.members if m.resident_id is not None)
        return tuple(subject.id for subject in self.subjects) or (self.resident.id,)


def check_request(
    request: IssueRequest,
    certificate_serial: int,
    registration: Registration | None,
    records: RecordStore,
    settings: MunicipalSettings,
    now: dt.datetime,
) -> list[Eligible]:
    """Every item of ``request`` checked for the holder of the (proven) ``certificate_serial``
    (or of ``registration``, the usage registration they are known by); the first refusal raises."""
    holder = check_holder(certificate_serial, registration, records, settings, now)
    if sum(item.copies for item in request.items) > settings.max_copies:
        raise Refused(RefusalCode.TOO_MANY_COPIES)
    return [check_item(item, holder, records, settings, now) for item in request.items]


def check_holder(
    certificate_serial: int,
    registration: Registration | None,
    records: RecordStore,
    settings: MunicipalSettings,
    now: dt.datetime,
) -> Holder:
    """The card's holder, if they may use the service at all today: the resident the card links
    to, else the register entry of ``registration`` (the usage registration they are known by)."""
    today = now.astimezone(JST).date()
    link = records.card_link(certificate_serial)
    if link is None and registration is not None:
        return check_registered(registration, records, settings, today)
    if link is None:
        raise Refused(RefusalCode.NOT_LINKED)
    holder = records.resident(link.resident_id)
    if holder is None:
        raise Refused(RefusalCode.NOT_LINKED)
    if not link.usable_on(today):
        raise Refused(RefusalCode.LINKED_TODAY)
    if holder.status == "deceased":
        raise Refused(RefusalCode.DECEASED)
    if holder.status == "moved_out":
        raise Refused(RefusalCode.MOVED_OUT)
    if holder.status == "moving_out":
        raise Refused(RefusalCode.MOVING_OUT)
    if records.blocked([holder.id], now):
        raise Refused(RefusalCode.NOT_ISSUABLE_HERE)
    if holder.age_on(today) < settings.minimum_age:
        raise Refused(RefusalCode.UNDER_AGE)
    if holder.pending_characters:
        raise Refused(RefusalCode.PENDING_CHARACTERS)
    if len(holder.name) > NAME_LIMIT or len(holder.name_kana) > NAME_LIMIT:
        raise Refused(RefusalCode.BEYOND_CHARACTER_LIMITS)
    if holder.moved_in_on >= today:
        raise Refused(RefusalCode.MOVED_IN_TODAY)
    return holder


def check_registered(
    registration: Registration, records: RecordStore, settings: MunicipalSettings, today: dt.date
) -> RegisteredEntry:
    """The register entry of an approved usage registration, if its person is still in the
    register (not removed, 除籍) and old enough."""
    if registration.status is Status.PENDING:
        raise Refused(RefusalCode.REGISTRATION_PENDING)
    if registration.status is Status.SUSPENDED:
        raise Refused(RefusalCode.REGISTRATION_SUSPENDED)
    if registration.status is not Status.APPROVED or registration.entry is None:
        raise Refused(RefusalCode.NOT_LINKED)  # denied: as if there were none
    entry = RegisteredEntry(registration.id, registration.entry.register_id, registration.entry.position)
    member = records.register(entry.register_id).member_at(entry.position)
    if member is None:
        raise Refused(RefusalCode.NO_REGISTER_HERE)
    if _age_on(member.birth_date, today) < settings.minimum_age:
        raise Refused(RefusalCode.UNDER_AGE)
    return entry


def _age_on(birth_date: dt.date, day: dt.date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (1 if before_birthday else 0)


def check_item(
    item: IssueItem, holder: Holder, records: RecordStore, settings: MunicipalSettings, now: dt.datetime
) -> Eligible:
    offer = settings.offer(item.certificate_type)
    if offer is None:
        raise Refused(RefusalCode.NOT_OFFERED)
    if item.certificate_type in REGISTERED_CERTIFICATES:
        # a standing fact, said before the hours: whose register is elsewhere is told so at any
        # hour (the kiosk sends them to their registered domicile: 本籍地の利用登録)
        _register_here(holder, records)
    if offer.hours is not None and not offer.hours.allows(now):
        raise Refused(RefusalCode.OUTSIDE_HOURS)
    if item.copies > offer.max_copies:
        raise Refused(RefusalCode.TOO_MANY_COPIES)
    kind = item.certificate_type
    options = item.options
    if kind in REGISTERED_CERTIFICATES:
        assert isinstance(options, RegisterOptions | AttachmentOptions)
        return _register(item, offer, holder, records, now)
    if isinstance(holder, RegisteredEntry):
        raise Refused(RefusalCode.NOT_OFFERED)  # from a domicile, its register's certificates only
    if kind in (CertificateType.RESIDENT_RECORD, CertificateType.RESIDENT_RECORD_ENTRIES):
        assert isinstance(options, ResidentRecordOptions)
        return _resident_record(item, offer, options, holder, records, now)
    if kind is CertificateType.SEAL_REGISTRATION:
        seal = records.seal(holder.id)
        if seal is None:
            raise Refused(RefusalCode.NO_SEAL)
        return Eligible(item, offer, holder, (holder,), seal=seal)
    assert isinstance(options, TaxOptions)  # the one kind left: 税証明書
    return _tax(item, offer, options, holder, records, settings, now)


def _resident_record(
    item: IssueItem,
    offer: Offer,
    options: ResidentRecordOptions,
    holder: Resident,
    records: RecordStore,
    now: dt.datetime,
) -> Eligible:
    household = records.household(holder.household_id)
    on_register = [member for member in household.members if member.status in _LIVING_HERE]
    if options.members is None:
        subjects = on_register
    else:
        by_id = {member.id: member for member in on_register}
        if not all(member_id in by_id for member_id in options.members):
            raise Refused(RefusalCode.NOT_IN_HOUSEHOLD)
        subjects = [member for member in on_register if member.id in options.members]  # register order
    entries_only = item.certificate_type is CertificateType.RESIDENT_RECORD_ENTRIES
    if entries_only and [subject.id for subject in subjects] != [holder.id]:
        raise Refused(RefusalCode.BAD_OPTIONS)  # 記載事項証明書: the holder's own entries only
    if options.my_number and not offer.my_number:
        raise Refused(RefusalCode.MY_NUMBER_NOT_OFFERED)
    if any(subject.status == "moving_out" for subject in subjects):
        raise Refused(RefusalCode.MOVING_OUT)
    if records.blocked([subject.id for subject in subjects], now):
        raise Refused(RefusalCode.NOT_ISSUABLE_HERE)
    if any(subject.pending_characters for subject in subjects):
        raise Refused(RefusalCode.PENDING_CHARACTERS)
    if len(household.address) > ADDRESS_LIMIT or any(len(subject.name) > NAME_LIMIT for subject in subjects):
        raise Refused(RefusalCode.BEYOND_CHARACTER_LIMITS)
    return Eligible(item, offer, holder, tuple(subjects), household=household)


def _tax(
    item: IssueItem,
    offer: Offer,
    options: TaxOptions,
    holder: Resident,
    records: RecordStore,
    settings: MunicipalSettings,
    now: dt.datetime,
) -> Eligible:
    if options.kind not in offer.tax_kinds:
        raise Refused(RefusalCode.TAX_KIND_NOT_OFFERED)
    if options.tax_year not in settings.tax_years_offered(now.astimezone(JST).date()):
        raise Refused(RefusalCode.TAX_YEAR_NOT_OFFERED)
    assessment = records.tax(holder.id, options.tax_year)
    if assessment is None or not assessment.resident_on_january_1:
        raise Refused(RefusalCode.NOT_RESIDENT_ON_JANUARY_1)
    if not assessment.filed:
        raise Refused(RefusalCode.TAX_NOT_FILED)
    return Eligible(item, offer, holder, (holder,), tax=assessment)


def _register_here(holder: Holder, records: RecordStore) -> None:
    """``no_register_here`` unless the holder's own register entry is kept here: a resident's as
    the resident record names it (a registered holder's entry is here by its registration)."""
    if isinstance(holder, RegisteredEntry):
        return
    if holder.register_id is None or records.register(holder.register_id).member_for(holder.id) is None:
        raise Refused(RefusalCode.NO_REGISTER_HERE)


def _register(
    item: IssueItem, offer: Offer, holder: Holder, records: RecordStore, now: dt.datetime
) -> Eligible:
    """The holder's own register: a resident's as the resident record names it, a registered
    holder's as their usage registration matched it."""
    if isinstance(holder, RegisteredEntry):
        register = records.register(holder.register_id)
        entry = register.member_at(holder.position)
    else:
        if holder.register_id is None:
            raise Refused(RefusalCode.NO_REGISTER_HERE)
        register = records.register(holder.register_id)
        entry = register.member_for(holder.id)
    if entry is None:
        raise Refused(RefusalCode.NO_REGISTER_HERE)
    if register.status != "current":
        raise Refused(RefusalCode.REGISTER_CLOSED)
    if register.filing_pending_since is not None:
        raise Refused(RefusalCode.REGISTER_PENDING)
    if item.certificate_type is CertificateType.FAMILY_REGISTER_ATTACHMENT:
        # the 附票 prints every member's addresses: none of them may be protected
        members = [m.resident_id for m in register.members if m.resident_id is not None]
        if records.blocked(members, now):
            raise Refused(RefusalCode.NOT_ISSUABLE_HERE)
    subjects = (holder,) if isinstance(holder, Resident) else ()
    return Eligible(item, offer, holder, subjects, register=register, entry=entry)
