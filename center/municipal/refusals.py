"""Why a municipality issues nothing: one stable code per reason, with what a kiosk shows.

Most reasons are about the person (本人の事情): their card, their residence, their age, their
seal, their taxes, their family register, a protection measure (支援措置, for victims of
domestic violence or stalking) or an issuance stop (交付停止). The center relays every answer and
keeps an audit log, so a reason about a person never reaches it: the center sees one code,
``refused_by_municipality`` (:data:`documents.refusal.GENERIC_REFUSAL`), and the detailed code
with its words is sealed to the terminal (:meth:`Refused.sealed_to`). Only the reasons that
depend on the municipality's settings and the order's shape alone (:data:`PUBLIC`: the same
answer for anyone asking the same) are answered openly. A new code is personal until it is
listed there.

Within the sealed reason too, a protection measure and an issuance stop both answer
``not_issuable_here``, in the same words as other cases the counter must look at, so not even the
screen tells anyone beside the kiosk that a person is protected.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric import ec

from documents import MunicipalKey
from documents.refusal import GENERIC_REFUSAL, RefusalReason, seal_refusal


class RefusalCode(StrEnum):
    NOT_LINKED = "card_not_registered"
    LINKED_TODAY = "card_usable_tomorrow"
    MOVED_IN_TODAY = "moved_in_today"
    MOVED_OUT = "moved_out"
    MOVING_OUT = "move_out_pending"
    DECEASED = "deceased"
    NOT_ISSUABLE_HERE = "not_issuable_here"
    UNDER_AGE = "under_minimum_age"
    PENDING_CHARACTERS = "characters_pending"
    BEYOND_CHARACTER_LIMITS = "beyond_character_limits"
    NOT_OFFERED = "certificate_not_offered"
    OUTSIDE_HOURS = "certificate_hours"
    TOO_MANY_COPIES = "too_many_copies"
    BAD_OPTIONS = "bad_options"
    NOT_IN_HOUSEHOLD = "not_in_household"
    MY_NUMBER_NOT_OFFERED = "my_number_not_offered"
    NO_SEAL = "no_seal_registered"
    TAX_YEAR_NOT_OFFERED = "tax_year_not_offered"
    TAX_KIND_NOT_OFFERED = "tax_kind_not_offered"
    NOT_RESIDENT_ON_JANUARY_1 = "not_resident_on_january_1"
    TAX_NOT_FILED = "tax_not_filed"
    NO_REGISTER_HERE = "no_register_here"
    REGISTER_CLOSED = "register_closed"
    REGISTER_PENDING = "register_filing_pending"
    REGISTRATION_PENDING = "registration_pending"  # 本籍地の利用登録: applied, not yet approved
    REGISTRATION_SUSPENDED = "registration_suspended"  # 本籍地の利用登録: stopped (the card was revoked)


COUNTER_JA = "市区町村の窓口でお尋ねください。"
COUNTER_EN = "Please ask at your municipal office."
# what the center reads of a refusal about a person (the kiosk shows the sealed words instead)
GENERIC_JA = "証明書を取得できません。" + COUNTER_JA
GENERIC_EN = "The certificate cannot be issued. " + COUNTER_EN

# the reasons that say nothing about the person: the municipality's settings (what it offers,
# when, how many, which years and kinds) and what the order asked; every other code is personal
PUBLIC = frozenset(
    {
        RefusalCode.NOT_OFFERED,
        RefusalCode.OUTSIDE_HOURS,
        RefusalCode.TOO_MANY_COPIES,
        RefusalCode.BAD_OPTIONS,
        RefusalCode.MY_NUMBER_NOT_OFFERED,
        RefusalCode.TAX_YEAR_NOT_OFFERED,
        RefusalCode.TAX_KIND_NOT_OFFERED,
    }
)

_MESSAGES: dict[RefusalCode, tuple[str, str]] = {
    RefusalCode.NOT_LINKED: (
        "このカードでは、この市区町村の証明書を取得できません。",
        "This card cannot be used for this municipality's certificates.",
    ),
    RefusalCode.LINKED_TODAY: (
        "新しいカードは明日からご利用いただけます。",
        "A new card can be used from tomorrow.",
    ),
    RefusalCode.MOVED_IN_TODAY: (
        "転入された当日はご利用いただけません。明日からご利用ください。",
        "Certificates cannot be issued on the day you moved in. Please come back tomorrow.",
    ),
    RefusalCode.MOVED_OUT: (
        "転出されたため、この市区町村の証明書は取得できません。",
        "You have moved out, so this municipality cannot issue your certificates.",
    ),
    RefusalCode.MOVING_OUT: (
        "転出の届出中のため、証明書を取得できません。",
        "A move-out has been filed, so certificates cannot be issued.",
    ),
    RefusalCode.DECEASED: ("この証明書は取得できません。", "This certificate cannot be issued."),
    RefusalCode.NOT_ISSUABLE_HERE: (
        "この証明書はコンビニエンスストアでは取得できません。",
        "This certificate cannot be issued at a convenience store.",
    ),
    RefusalCode.UNDER_AGE: (
        "年齢の制限により、コンビニエンスストアではご利用いただけません。",
        "Residents of your age cannot use this service at a convenience store.",
    ),
    RefusalCode.PENDING_CHARACTERS: (
        "氏名または住所の文字の関係で、コンビニエンスストアでは取得できません。",
        "Because of characters in your name or address, this cannot be issued at a convenience store.",
    ),
    RefusalCode.BEYOND_CHARACTER_LIMITS: (
        "氏名または住所が長いため、コンビニエンスストアでは取得できません。",
        "Your name or address is too long to be printed at a convenience store.",
    ),
    RefusalCode.NOT_OFFERED: (
        "この市区町村では、この証明書をコンビニエンスストアで交付していません。",
        "This municipality does not issue this certificate at convenience stores.",
    ),
    RefusalCode.OUTSIDE_HOURS: (
        "この証明書は、ただいまの時間は取得できません。",
        "This certificate cannot be issued at this time.",
    ),
    RefusalCode.TOO_MANY_COPIES: (
        "一度に取得できる通数を超えています。",
        "That is more copies than can be issued at once.",
    ),
    RefusalCode.BAD_OPTIONS: (
        "選択された内容では取得できません。",
        "The certificate cannot be issued with the options chosen.",
    ),
    RefusalCode.NOT_IN_HOUSEHOLD: (
        "同じ世帯の方の証明書のみ取得できます。",
        "Only members of your own household can be included.",
    ),
    RefusalCode.MY_NUMBER_NOT_OFFERED: (
        "この市区町村では、個人番号入りの住民票はコンビニエンスストアで交付していません。",
        "This municipality does not print My Number on resident records at convenience stores.",
    ),
    RefusalCode.NO_SEAL: (
        "印鑑登録がないため、印鑑登録証明書は取得できません。",
        "No seal is registered, so a seal registration certificate cannot be issued.",
    ),
    RefusalCode.TAX_YEAR_NOT_OFFERED: (
        "この年度の税証明書は取得できません。",
        "Tax certificates for that year cannot be issued here.",
    ),
    RefusalCode.TAX_KIND_NOT_OFFERED: (
        "この種類の税証明書は取得できません。",
        "That kind of tax certificate cannot be issued here.",
    ),
    RefusalCode.NOT_RESIDENT_ON_JANUARY_1: (
        "その年度の1月1日にお住まいでなかったため、税証明書は取得できません。",
        "You did not live here on 1 January of that tax year, so the tax certificate cannot be issued.",
    ),
    RefusalCode.TAX_NOT_FILED: (
        "所得の申告がないため、税証明書は取得できません。",
        "No income declaration was filed, so the tax certificate cannot be issued.",
    ),
    RefusalCode.NO_REGISTER_HERE: (
        "この市区町村に本籍がないため、戸籍の証明書は取得できません。",
        "Your family register is not in this municipality.",
    ),
    RefusalCode.REGISTER_CLOSED: (
        "この戸籍の証明書はコンビニエンスストアでは取得できません。",
        "Certificates of this family register cannot be issued at a convenience store.",
    ),
    RefusalCode.REGISTER_PENDING: (
        "届出の処理中のため、戸籍の証明書は取得できません。",
        "A filing is being processed, so family-register certificates cannot be issued now.",
    ),
    RefusalCode.REGISTRATION_PENDING: (
        "本籍地の利用登録は審査中です。登録が済んでからご利用ください。",
        "Your usage registration with your registered domicile is still under review. "
        "Please use the service once it is approved.",
    ),
    RefusalCode.REGISTRATION_SUSPENDED: (
        "本籍地の利用登録が停止されているため、戸籍の証明書は取得できません。",
        "Your usage registration with your registered domicile is suspended, "
        "so family-register certificates cannot be issued.",
    ),
}

# for these, the counter is where to go next
_TO_THE_COUNTER = {
    RefusalCode.NOT_LINKED,
    RefusalCode.MOVED_OUT,
    RefusalCode.MOVING_OUT,
    RefusalCode.DECEASED,
    RefusalCode.NOT_ISSUABLE_HERE,
    RefusalCode.UNDER_AGE,
    RefusalCode.PENDING_CHARACTERS,
    RefusalCode.BEYOND_CHARACTER_LIMITS,
    RefusalCode.NOT_OFFERED,
    RefusalCode.MY_NUMBER_NOT_OFFERED,
    RefusalCode.NO_SEAL,
    RefusalCode.TAX_YEAR_NOT_OFFERED,
    RefusalCode.TAX_KIND_NOT_OFFERED,
    RefusalCode.NOT_RESIDENT_ON_JANUARY_1,
    RefusalCode.TAX_NOT_FILED,
    RefusalCode.REGISTER_CLOSED,
    RefusalCode.REGISTER_PENDING,
    RefusalCode.REGISTRATION_SUSPENDED,
}


class Refused(Exception):
    """Nothing is issued for this reason (a stable ``code``, words for the kiosk). ``sealed``: the
    reason sealed to the requesting terminal, once :meth:`sealed_to` made it."""

    def __init__(self, code: RefusalCode, *, sealed: bytes | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.sealed = sealed

    @property
    def personal(self) -> bool:
        """About the person (the center must not learn it), not about settings or the order."""
        return self.code not in PUBLIC

    @property
    def public_code(self) -> str:
        """The code the center may read: the generic one for a reason about the person."""
        return GENERIC_REFUSAL if self.personal else self.code.value

    @property
    def reason(self) -> RefusalReason:
        return RefusalReason(self.code.value, self.message_ja, self.message_en)

    def sealed_to(
        self,
        *,
        key: MunicipalKey,
        session_id: str,
        terminal_id: str,
        terminal_public_key: ec.EllipticCurvePublicKey,
        now: dt.datetime,
    ) -> Refused:
        """The same refusal with its reason signed and sealed to the session's terminal."""
        sealed = seal_refusal(
            self.reason,
            key=key,
            session_id=session_id,
            terminal_id=terminal_id,
            terminal_public_key=terminal_public_key,
            now=now,
        )
        return Refused(self.code, sealed=sealed)

    @property
    def message_ja(self) -> str:
        words = _MESSAGES[self.code][0]
        return words + COUNTER_JA if self.code in _TO_THE_COUNTER else words

    @property
    def message_en(self) -> str:
        words = _MESSAGES[self.code][1]
        return f"{words} {COUNTER_EN}" if self.code in _TO_THE_COUNTER else words

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message_en}"
