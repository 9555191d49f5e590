"""Finding an applicant in this municipality's family registers (戸籍) for a usage registration
(利用登録申請) of a resident of another municipality whose 本籍 is here.

The applicant's identity (氏名, 生年月日, 性別: :class:`Applicant`) comes from the protocol, not
from what was typed; the applicant types the 本籍 and the 筆頭者. The application matches a
register entry when a register here has that 本籍 and that 筆頭者 (compared as
:mod:`~center.municipal.domicile_text` says) and holds, not removed (除籍 of the member), an entry
with the applicant's names, birth date and sex.

The answer is the entry (:class:`Match`) or a :class:`DenialReason`:

- ``not_matched`` for every way of not finding the entry: no register with that 本籍, another
  筆頭者, the applicant not in it, or only as a removed member. One code, one set of words: an
  answer never says whether a register exists or who else is in it;
- ``register_closed`` when the entry is only in registers that are closed (除籍) or were
  rewritten (改製原戸籍): the applicant is in it, so this says nothing about anyone else, and
  their certificates cannot be issued at a store.

A register with a filing not yet entered (``filing_pending_since``) still matches: the
registration is for the future and the filing is usually entered within days, while issuance
itself is refused while the filing is pending (``register_filing_pending``); refusing the
registration would send the applicant back to the terminal for a passing state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from center.municipal import schema
from center.municipal.domicile_text import canonical_domicile, canonical_name

_COUNTER_JA = "本籍地の市区町村の窓口でお尋ねください。"
_COUNTER_EN = "Please ask the municipal office of your registered domicile."


class DenialReason(StrEnum):
    """Why a usage registration is not approved (at once, or by the staff), with kiosk words."""

    NOT_MATCHED = "not_matched"
    REGISTER_CLOSED = "register_closed"
    DUPLICATE = "duplicate"
    OTHER = "other"

    @property
    def message_ja(self) -> str:
        return _WORDS[self][0] + _COUNTER_JA

    @property
    def message_en(self) -> str:
        return f"{_WORDS[self][1]} {_COUNTER_EN}"


_WORDS: dict[DenialReason, tuple[str, str]] = {
    DenialReason.NOT_MATCHED: (
        "入力された本籍・筆頭者の戸籍で、ご本人の記載を確認できませんでした。",
        "You could not be found in a family register with the registered domicile and head you entered.",
    ),
    DenialReason.REGISTER_CLOSED: (
        "この戸籍の証明書はコンビニエンスストアでは取得できません。",
        "Certificates of this family register cannot be issued at a convenience store.",
    ),
    DenialReason.DUPLICATE: (
        "既に利用登録の申請があります。",
        "A usage registration has already been made.",
    ),
    DenialReason.OTHER: (
        "利用登録を承認できませんでした。",
        "The usage registration could not be approved.",
    ),
}


@dataclass(frozen=True)
class Applicant:
    """Who applies, as the register would write them (from the protocol, never typed)."""

    family_name: str  # 氏
    given_name: str  # 名
    birth_date: dt.date
    sex: str  # "male" or "female"


@dataclass(frozen=True)
class Match:
    """The applicant's entry: register and position (the staff read it in their own system)."""

    register_id: int
    position: int


def match(
    connection: sa.Connection, applicant: Applicant, domicile: str, head_name: str
) -> Match | DenialReason:
    """The applicant's entry in a register here with this 本籍 and 筆頭者, or why not."""
    registers, members = schema.family_registers, schema.register_members
    rows = connection.execute(
        sa.select(
            members.c.register_id,
            members.c.position,
            members.c.family_name,
            members.c.given_name,
            registers.c.domicile,
            registers.c.head_name,
            registers.c.status,
        )
        .join(registers, registers.c.id == members.c.register_id)
        .where(
            members.c.birth_date == applicant.birth_date,
            members.c.sex == applicant.sex,
            members.c.removed.is_(False),
        )
        .order_by(members.c.register_id, members.c.position)
    ).all()
    family, given = canonical_name(applicant.family_name), canonical_name(applicant.given_name)
    place, head = canonical_domicile(domicile), canonical_name(head_name)
    found = [
        row
        for row in rows
        if canonical_name(row.family_name) == family
        and canonical_name(row.given_name) == given
        and canonical_domicile(row.domicile) == place
        and canonical_name(row.head_name) == head
    ]
    current = [row for row in found if row.status == "current"]
    if current:
        return Match(current[0].register_id, current[0].position)
    return DenialReason.REGISTER_CLOSED if found else DenialReason.NOT_MATCHED
